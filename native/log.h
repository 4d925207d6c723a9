// SPDK's and DPDK's log output, captured. SPDK logs through a callback given to spdk_app_start;
// DPDK writes to a stdio stream we replace. Every message goes into a small ring of recent lines
// (so that a failed start or I/O can say what SPDK said about it) and is printed to stderr when
// it is at least as severe as the level the user chose.
#pragma once

#include <spdk/log.h>

#include <cstdint>
#include <string>
#include <vector>

namespace spdk_node::log {

// Messages at or below this SPDK level (SPDK_LOG_ERROR = 0 ... SPDK_LOG_DEBUG = 4) are printed.
void SetPrintLevel(int level);
// The callback for spdk_app_opts.log.
void Callback(int level, const char* file, const int line, const char* func, const char* format, va_list args);
// Route DPDK's log stream (EAL messages) into the same ring.
void CaptureDpdk();
// A position in the stream of messages; Since() returns the error and warning lines after it.
uint64_t Mark();
std::vector<std::string> Since(uint64_t mark);

}  // namespace spdk_node::log
