// Per-JS-environment state of the addon (N-API instance data): the completion crossing, the
// class constructors, and the error factory the TypeScript layer registers so that native
// failures become real SpdkError / NvmeError instances.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

namespace spdk_node {

class Crossing;

struct AddonData {
  Crossing* crossing = nullptr;  // outlives SPDK: see runtime.cc for when it may be deleted
  Napi::FunctionReference make_error;
  Napi::FunctionReference bdev_constructor;
  Napi::FunctionReference nvme_ctrlr_constructor;
  Napi::FunctionReference nvme_qpair_constructor;
  Napi::FunctionReference on_stopped;
};

AddonData& Data(Napi::Env env);

// An SpdkError for a negative or positive errno, with SPDK log lines when there are any.
Napi::Value MakeError(Napi::Env env, const char* operation, int errno_value, const std::string& message,
                      const std::vector<std::string>& log = {});
// An NvmeError for a completion status.
Napi::Value MakeNvmeError(Napi::Env env, const char* operation, int sct, int sc, bool dnr);
// Throws (as a JS exception) an SpdkError.
[[noreturn]] void ThrowError(Napi::Env env, const char* operation, int errno_value, const std::string& message);

}  // namespace spdk_node
