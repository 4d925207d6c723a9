// See addon_data.h.
#include "addon_data.h"

#include <cstdlib>

namespace spdk_node {

AddonData& Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

static Napi::Value CallFactory(Napi::Env env, std::initializer_list<napi_value> args) {
  AddonData& data = Data(env);
  if (data.make_error.IsEmpty()) {
    // Only before the TypeScript layer finished loading; never seen by users.
    return Napi::Error::New(env, "spdk-node: error factory not registered").Value();
  }
  return data.make_error.Call(args);
}

Napi::Value MakeError(Napi::Env env, const char* operation, int errno_value, const std::string& message,
                      const std::vector<std::string>& log) {
  Napi::Array lines = Napi::Array::New(env, log.size());
  for (size_t i = 0; i < log.size(); i++) lines.Set(static_cast<uint32_t>(i), log[i]);
  return CallFactory(env, {Napi::String::New(env, "spdk"), Napi::String::New(env, operation),
                           Napi::Number::New(env, std::abs(errno_value)), Napi::String::New(env, message), lines});
}

Napi::Value MakeNvmeError(Napi::Env env, const char* operation, int sct, int sc, bool dnr) {
  Napi::Object status = Napi::Object::New(env);
  status.Set("sct", sct);
  status.Set("sc", sc);
  status.Set("dnr", dnr);
  return CallFactory(env, {Napi::String::New(env, "nvme"), Napi::String::New(env, operation), status});
}

void ThrowError(Napi::Env env, const char* operation, int errno_value, const std::string& message) {
  throw Napi::Error(env, MakeError(env, operation, errno_value, message));
}

}  // namespace spdk_node
