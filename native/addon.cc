// Module initialisation: registers each concept's functions and classes, nothing more.
#include <napi.h>

#include "addon_data.h"
#include "bdev/bdev.h"
#include "dma.h"
#include "nvme/nvme.h"
#include "io/ring.h"
#include "runtime.h"

namespace spdk_node {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData);
  runtime::Init(env, exports);
  dma::Init(env, exports);
  bdev::Init(env, exports);
  nvme::Init(env, exports);
  ring::Init(env, exports);
  return exports;
}

NODE_API_MODULE(spdk_node, Init)

}  // namespace spdk_node
