// See nvme.h. Module registration and what admin and I/O commands share.
#include "nvme.h"

#include <cstring>

#include "dma.h"

namespace spdk_node::nvme {

void Payload::Take(Napi::Value buffer) {
  auto array = buffer.As<Napi::Uint8Array>();
  user = array.Data();
  length = array.ByteLength();
  direct = dma::Contains(user, length);
}

void* Payload::Prepare(bool to_device) {
  if (direct || length == 0) return user;
  bounce = dma::AllocBounce(length, kBounceAlign);
  if (bounce != nullptr && to_device) memcpy(bounce, user, length);
  return bounce;
}

void Payload::Finish(bool from_device, bool success) {
  if (bounce == nullptr) return;
  if (from_device && success) memcpy(user, bounce, length);
  dma::FreeBounce(bounce, length);
  bounce = nullptr;
}

void Init(Napi::Env env, Napi::Object exports) { InitCtrlr(env, exports); }

}  // namespace spdk_node::nvme
