// See nvme.h. PCIe hot removal for controllers attached through the NVMe API.
//
// SPDK notices that a PCIe device went away only while something probes the bus: its hotplug
// monitor (the kernel's uevents, and DPDK's "device removed" flag) runs inside every PCIe
// spdk_nvme_probe. bdev_nvme probes from a poller when hotplug is enabled; the NVMe API does the
// same while it holds PCIe controllers: every kHotplugPollUs, on the app thread, a probe of one
// held controller's address (which attaches nothing new: the probe callback declines), so that
// the monitor runs. The monitor fails a removed controller and calls its remove callback;
// CtrlrState::OnRemoved marks it, and its admin poller then fails its queue pairs, which settles
// every outstanding command with ENXIO.
#include <spdk/nvme.h>
#include <spdk/thread.h>

#include <vector>

#include "nvme.h"

namespace spdk_node::nvme {

namespace {

// App thread only.
std::vector<spdk_nvme_transport_id> g_watched;  // one per held PCIe controller (duplicates allowed)
spdk_poller* g_poller = nullptr;
spdk_nvme_probe_ctx* g_probe = nullptr;  // a scan still finishing

bool DeclineNew(void*, const spdk_nvme_transport_id*, spdk_nvme_ctrlr_opts*) { return false; }

int Monitor(void*) {
  if (g_probe == nullptr) {
    if (g_watched.empty()) {
      spdk_poller_unregister(&g_poller);
      return SPDK_POLLER_IDLE;
    }
    g_probe = spdk_nvme_probe_async(&g_watched.front(), nullptr, &DeclineNew, nullptr, nullptr);
    if (g_probe == nullptr) return SPDK_POLLER_IDLE;  // the address is gone from the bus: try again later
  }
  if (spdk_nvme_probe_poll_async(g_probe) != -EAGAIN) g_probe = nullptr;  // freed by SPDK
  return SPDK_POLLER_BUSY;
}

}  // namespace

void WatchForRemoval(const spdk_nvme_transport_id& trid) {
  if (trid.trtype != SPDK_NVME_TRANSPORT_PCIE) return;
  g_watched.push_back(trid);
  if (g_poller == nullptr) g_poller = SPDK_POLLER_REGISTER(&Monitor, nullptr, kHotplugPollUs);
}

void StopWatching(const spdk_nvme_transport_id& trid) {
  for (auto it = g_watched.begin(); it != g_watched.end(); ++it) {
    if (spdk_nvme_transport_id_compare(&*it, &trid) == 0) {
      g_watched.erase(it);
      break;
    }
  }
  // A scan still finishing keeps the poller until it is done; then it unregisters itself.
  if (g_watched.empty() && g_probe == nullptr) spdk_poller_unregister(&g_poller);
}

}  // namespace spdk_node::nvme
