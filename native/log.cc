// See log.h.
#include "log.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>

extern "C" int rte_openlog_stream(FILE* f);  // DPDK; its header is not installed with SPDK's

namespace spdk_node::log {
namespace {

constexpr size_t kKeep = 128;

struct Line {
  uint64_t seq;
  int level;
  std::string text;
};

std::mutex g_mutex;
// Never destroyed: SPDK's threads may still log while static destructors run (an exit whose
// bounded shutdown gave up).
std::deque<Line>& g_lines = *new std::deque<Line>;
uint64_t g_seq = 0;
int g_print_level = SPDK_LOG_WARN;

const char* LevelName(int level) {
  switch (level) {
    case SPDK_LOG_ERROR: return "error";
    case SPDK_LOG_WARN: return "warning";
    case SPDK_LOG_NOTICE: return "notice";
    case SPDK_LOG_INFO: return "info";
    default: return "debug";
  }
}

void Record(int level, std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return;
  bool print;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    print = level <= g_print_level;
    g_lines.push_back({++g_seq, level, text});
    if (g_lines.size() > kKeep) g_lines.pop_front();
  }
  if (print) fprintf(stderr, "[spdk %s] %s\n", LevelName(level), text.c_str());
}

// DPDK writes whole lines to its log stream; the level is not passed through, so EAL lines are
// kept as notices unless they look like errors.
ssize_t DpdkWrite(void*, const char* buf, size_t size) {
  std::string text(buf, size);
  bool error = text.find("rror") != std::string::npos || text.find("annot") != std::string::npos ||
               text.find("ailed") != std::string::npos;
  Record(error ? SPDK_LOG_ERROR : SPDK_LOG_NOTICE, "dpdk: " + text);
  return static_cast<ssize_t>(size);
}

}  // namespace

void SetPrintLevel(int level) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_print_level = level;
}

void Callback(int level, const char* file, const int line, const char* func, const char* format, va_list args) {
  if (level > SPDK_LOG_NOTICE) {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (level > g_print_level) return;  // debug chatter: neither kept nor printed
  }
  char buf[1024];
  vsnprintf(buf, sizeof(buf), format, args);
  std::string text;
  if (level <= SPDK_LOG_WARN && func != nullptr) {
    text = std::string(func) + ": ";
  }
  text += buf;
  Record(level, std::move(text));
}

void CaptureDpdk() {
  static FILE* stream = [] {
    cookie_io_functions_t io = {};
    io.write = &DpdkWrite;
    FILE* f = fopencookie(nullptr, "w", io);
    if (f != nullptr) setvbuf(f, nullptr, _IOLBF, 0);
    return f;
  }();
  if (stream != nullptr) rte_openlog_stream(stream);
}

uint64_t Mark() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_seq;
}

std::vector<std::string> Since(uint64_t mark) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::vector<std::string> out;
  for (const Line& l : g_lines) {
    if (l.seq > mark && l.level <= SPDK_LOG_WARN) out.push_back(l.text);
  }
  return out;
}

}  // namespace spdk_node::log
