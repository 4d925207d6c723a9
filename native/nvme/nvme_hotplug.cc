// See nvme.h. PCIe hot removal for controllers attached through the NVMe API.
//
// SPDK fails a hot-removed PCIe controller (and aborts what is outstanding on it) only inside its
// hotplug monitor, which runs when something probes the PCIe bus; bdev_nvme probes the whole bus
// from a poller when its hotplug is on. A whole-bus probe would also open every other device bound
// to a user-space driver (which another process may want), so the NVMe API listens to the kernel's
// uevents itself (spdk_pci_event_listen) while it holds PCIe controllers: every kHotplugPollUs, on
// the app thread, it reads them, and when a held controller's device is removed it probes that
// one address, which runs SPDK's monitor. The monitor fails the controller as removed and calls
// CtrlrState::OnRemoved; the admin poller then fails the queue pairs, and every outstanding
// command settles with ENXIO. If SPDK's own listener missed the event, the controller is failed
// here instead.
#include <spdk/env.h>
#include <spdk/log.h>
#include <spdk/nvme.h>
#include <spdk/thread.h>
#include <unistd.h>

#include <vector>

#include "nvme/nvme.h"

namespace spdk_node::nvme {

namespace {

struct Watched {
  spdk_nvme_transport_id trid;
  spdk_nvme_ctrlr* ctrlr;
};

// App thread only.
std::vector<Watched> g_watched;  // one per held PCIe controller handle
spdk_poller* g_poller = nullptr;
int g_events = -1;  // our uevent socket

bool DeclineNew(void*, const spdk_nvme_transport_id*, spdk_nvme_ctrlr_opts*) { return false; }

std::vector<spdk_nvme_probe_ctx*> g_probes;  // probes still finishing (polled from Monitor)

// Runs SPDK's hotplug monitor: a probe of the removed device's address (it attaches nothing).
// The monitor runs inside spdk_nvme_probe_async (its scan); polling the context only finishes and
// frees it, which with nothing attached takes one poll; otherwise later ticks go on polling it.
void RunSpdkMonitor(const spdk_nvme_transport_id& trid) {
  spdk_nvme_probe_ctx* probe = spdk_nvme_probe_async(&trid, nullptr, &DeclineNew, nullptr, nullptr);
  if (probe != nullptr && spdk_nvme_probe_poll_async(probe) == -EAGAIN) g_probes.push_back(probe);
}

// Nothing held and no probe finishing: stop listening.
void StopIfIdle() {
  if (!g_watched.empty() || !g_probes.empty()) return;
  spdk_poller_unregister(&g_poller);
  if (g_events >= 0) close(g_events);
  g_events = -1;
}

void PollProbes() {
  for (auto it = g_probes.begin(); it != g_probes.end();) {
    it = spdk_nvme_probe_poll_async(*it) == -EAGAIN ? it + 1 : g_probes.erase(it);
  }
}

int Monitor(void*) {
  PollProbes();
  int handled = 0;
  spdk_pci_event event;
  while (g_events >= 0 && spdk_pci_get_event(g_events, &event) > 0) {
    if (event.action != SPDK_UEVENT_REMOVE) continue;
    for (const Watched& w : std::vector<Watched>(g_watched)) {
      spdk_pci_addr addr;
      if (spdk_pci_addr_parse(&addr, w.trid.traddr) != 0 || spdk_pci_addr_compare(&addr, &event.traddr) != 0) continue;
      RunSpdkMonitor(w.trid);
      if (!spdk_nvme_ctrlr_is_failed(w.ctrlr)) {
        SPDK_WARNLOG("PCIe device %s was removed; failing its controller\n", w.trid.traddr);
        spdk_nvme_ctrlr_fail(w.ctrlr);
        CtrlrState::OnRemoved(nullptr, w.ctrlr);
      }
      handled++;
      break;  // one probe per address; handles sharing the controller saw it too
    }
  }
  StopIfIdle();  // the last probe a released controller left has finished
  return handled > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

}  // namespace

void WatchForRemoval(const spdk_nvme_transport_id& trid, spdk_nvme_ctrlr* ctrlr) {
  if (trid.trtype != SPDK_NVME_TRANSPORT_PCIE) return;
  if (g_events < 0) {
    g_events = spdk_pci_event_listen();
    if (g_events < 0) SPDK_WARNLOG("cannot listen for PCIe hot removal (no uevent socket): a removed controller's commands will not settle\n");
  }
  g_watched.push_back({trid, ctrlr});
  if (g_poller == nullptr) g_poller = SPDK_POLLER_REGISTER(&Monitor, nullptr, kHotplugPollUs);
}

void StopWatching(spdk_nvme_ctrlr* ctrlr) {
  for (auto it = g_watched.begin(); it != g_watched.end(); ++it) {
    if (it->ctrlr == ctrlr) {
      g_watched.erase(it);
      break;
    }
  }
  StopIfIdle();
}

}  // namespace spdk_node::nvme
