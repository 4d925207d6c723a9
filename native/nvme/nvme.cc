// See nvme.h. Module registration and what admin and I/O commands share.
#include "nvme/nvme.h"

#include <cstring>

#include "dma.h"

namespace spdk_node::nvme {

Payload::~Payload() {
  if (bounce != nullptr) dma::FreeBounce(bounce, length, kBounceAlign);
}

bool Payload::Take(Napi::Value buffer, bool to_device) {
  auto array = buffer.As<Napi::Uint8Array>();
  void* user = array.Data();
  length = array.ByteLength();
  if (length == 0) return true;
  block = dma::Find(user, length);
  if (block != nullptr) {
    memory = user;
    return true;
  }
  bounce = dma::AllocBounce(length, kBounceAlign);
  if (bounce == nullptr) return false;
  if (to_device) memcpy(bounce, user, length);
  memory = bounce;
  return true;
}

bool Payload::Settle(Napi::Value buffer, bool from_device, bool success) {
  if (bounce == nullptr || !from_device || !success) return true;
  void* user = nullptr;
  size_t now = 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(buffer.Env(), buffer, &type, &now, &user, nullptr, nullptr) != napi_ok || now < length) {
    return false;
  }
  memcpy(user, bounce, length);
  return true;
}

void Init(Napi::Env env, Napi::Object exports) { InitCtrlr(env, exports); }

}  // namespace spdk_node::nvme
