// The I/O ring: the data path for reads and writes on a device (an open bdev, or an NVMe
// namespace on an I/O queue pair), used by both the batched APIs (IoQueue, NvmeQueue) and the
// Promise APIs (bdev.read / bdev.write, ns.read / ns.write / ns.compare). It is the crossing (crossing.h)
// specialised for I/O: the same doorbell message into SPDK, the same one wake-up back to JS, but
// no object, promise or N-API call per I/O on either side.
//
// A ring has `depth` slots. JS owns a free slot; a submitted slot belongs to SPDK until its
// completion has been read by JS.
//
// Submission (JS thread -> app thread): JS writes [opcode, slot, offset, length, address] rows
// into a Float64Array and calls submit(n) (with the Buffers, for a ring without slot memory).
// Native code checks each row, records it in the slot, and appends the slot numbers to a
// single-producer single-consumer ring. While the ring is busy, an SPDK poller on the app thread
// takes new slots every reactor iteration and nothing else is needed. An idle ring has no
// poller: the submit() that finds it unwatched sends one doorbell message
// (spdk_thread_send_msg), which registers the poller. The poller stops once nothing is in
// flight or submitted, after clearing the watched flag and looking once more, so a slot is never
// left behind (the flag and the ring tail are sequentially consistent on both sides).
//
// Completion (app thread -> JS thread): each completion is written as (slot, result) into a
// completion ring in memory JS reads directly (an ArrayBuffer). The app thread publishes the
// tail every few completions, when nothing else is in flight, and from its poller each reactor
// iteration. JS drains the ring and then arms a flag; the app thread wakes JS (through the
// crossing's wake-up) only when it publishes completions JS has not read and finds the flag
// armed (and, with the two sharing a core, only for a batch: below). While JS is busy draining,
// or spinning for more (src/io/ring.ts), completions pile up without any wake-up.
//
//   memory shared with JS, int32 words:
//     [kTailWord]   completions published (uint32, wrapping); written by the app thread
//     [kArmedWord]  1: JS is waiting for a wake-up; the app thread takes it (exchange to 0)
//     [kSameCoreWord] 1: at its last submit, the JS thread ran on the app thread's core; written
//                   by the JS thread (native submit), read by JS (see "Sharing a core" below)
//     [kHeadWord]   completions JS had read when it last armed; written by JS before arming
//     [kEntryWord + 2*i], [kEntryWord + 2*i + 1]: slot and result of entry i mod capacity
//   A result is 0, a negative errno, or a positive NVMe status: sct << 8 | sc, plus kDnrBit when
//   the controller set Do Not Retry (only the NVMe driver reports it; SPDK's bdev layer keeps none).
//
// Devices: the ring itself knows nothing of bdevs or NVMe. A Device (below) starts a slot's I/O
// on the app thread and reports its end with Complete(); the ring does the rest (checking rows,
// bouncing ordinary Buffers through DMA memory, publishing completions, waking JS). The bdev
// device is in this file; the NVMe one is nvme_ring.cc, whose completions the queue pair's own
// poller reaps (nvme.h). When the ring is made, its device registers it with its owner (the
// bdev, the queue pair) through the crossing, so the registration reaches the app thread ahead
// of any close, free or detach JS asks for later; those first take (TakeAll) what JS submitted
// before them, which then completes rather than failing EBADF.
//
// Memory (the rule of dma_block.h): SPDK only ever touches memory native code owns. The ring
// holds a reference to its slot memory; a slot holds one to the DMA Buffer its I/O uses until the
// I/O completes. An ordinary Buffer is never touched off the JS thread: its data is copied into a
// bounce buffer at submit() (a write), and out of it by reap() before JS sees the completion (a
// read), after checking that the Buffer still has its memory (JS may detach, transfer or shrink
// it meanwhile; the read then fails with EINVAL). So a view JS detaches or transfers, or a
// worker torn down, never leaves the app thread writing into freed memory.
//
// Sharing a core: when the JS thread runs on the app thread's core (Node pinned there, as on a
// two-core machine whose other core serves something else), the two take turns on it, and every
// turn costs two context switches and a pass through Node's event loop. So there:
//   - JS is woken for a batch: once at least half of what is outstanding has completed (the
//     completions JS has not read >= those in flight or not yet taken), when nothing is, or
//     when a reactor iteration brought none (the device is slower than the turn: waiting longer
//     gains nothing). JS writes the head it has read up to ([kHeadWord]) before it arms.
//   - The app thread takes everything JS submitted at once, not kTakeAtMost per iteration (that
//     limit lets JS refill while SPDK works, which a shared core cannot do): the device gets the
//     batch together (NVMe/TCP: fewer, larger socket writes).
//   - While JS is awake (not armed) and last submitted from this core, the app thread's poller
//     gives the core up (sched_yield) once per reactor iteration: a woken JS thread would
//     otherwise wait for the end of the reactor's scheduler slice (milliseconds).
//   - JS does not spin (spinUs) on that core: spinning there only delays what it waits for.
// Measured (NVMe/TCP loopback to a target on the other core, 4 KiB QD 128, namespace queue; the
// same minutes' spdk_nvme_perf in brackets): randread 195 K with 8 completions per JS turn before
// the batch wake-up, 450-510 K with 47-64 after, 650 K taking all at once (perf 490 K); randwrite
// 570 K -> 714 K by taking all at once (perf 770 K).
//
// Capacity: at most `depth` slots are submitted or completed-but-unread at once, so both rings
// have room for `depth` entries (rounded up to a power of two) and can never overflow.
//
// Keep-alive: from the first submit until JS calls idle(), the ring holds the crossing (Node does
// not exit with I/O in flight) and keeps its JS object alive (its callback must be there for the
// wake-up). The app thread keeps the native state alive while it has I/O in flight or a message
// queued, so a ring collected by JS never leaves SPDK with a dangling pointer.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>

#include "dma_block.h"

namespace spdk_node::ring {

constexpr int kTailWord = 0;
constexpr int kArmedWord = 16;  // its own cache line: JS writes it, the app thread writes the tail
constexpr int kSameCoreWord = 17;  // JS writes it too (its line)
constexpr int kHeadWord = 18;      // JS: completions read when it last armed (its line)
constexpr int kEntryWord = 32;
constexpr int32_t kDnrBit = 1 << 15;

// Opcodes of a submission row. Compare is for devices that accept it (NVMe).
enum Opcode : int { kRead = 0, kWrite = 1, kCompare = 2 };

class RingState;

// One I/O of a ring, as a device sees it.
// alignas: the JS thread fills a free slot while the app thread works on its neighbours.
struct alignas(64) Slot {
  // Written by the JS thread while the slot is free; read by the app thread once submitted.
  int opcode = kRead;
  uint64_t offset = 0;   // bytes for a bdev; the first LBA for an NVMe namespace
  uint64_t length = 0;   // bytes
  void* data = nullptr;  // direct: slot memory or a DMA Buffer's memory; never an ordinary Buffer's
  bool direct = true;    // `data` is DMA memory; otherwise the I/O uses `bounce`
  int32_t refused = 0;   // -errno: complete with this instead of doing the I/O (its Buffer is unusable)
  DmaRef block;          // a direct I/O on a DMA Buffer: its memory, held until the I/O completes
  // An ordinary Buffer's I/O: DMA memory the JS thread filled at submission (a write or compare)
  // or empties at completion (a read, in reap()). The app thread never touches the Buffer itself:
  // JS may detach, transfer or shrink it while the I/O is in flight. It frees a write's bounce.
  void* bounce = nullptr;
  uint64_t bounce_length = 0;
  // App thread only.
  RingState* ring = nullptr;
  uint32_t index = 0;
  // The memory the device transfers to or from.
  void* Memory() const { return direct ? data : bounce; }
};

// Where a ring's I/O goes.
class Device {
 public:
  virtual ~Device() = default;
  // JS thread: the operation that makes a ring on it (named in errors), the opcodes it takes,
  // the alignment its bounce buffers need.
  virtual const char* CreateOperation() const = 0;
  virtual bool Accepts(int opcode) const = 0;
  virtual size_t BufAlign() const = 0;
  // JS thread, once the ring exists: per-slot state for `depth` slots, and the ring itself.
  virtual void Attach(Napi::Env env, uint32_t depth, const std::shared_ptr<RingState>& ring) = 0;
  // App thread: 0 while I/O can start, else the -errno it fails with.
  virtual int Unavailable() = 0;
  // App thread: start the slot's I/O on s.Memory(); it ends with Complete(s, result), which may
  // be called before Issue returns. A completion may release the ring (and this device).
  virtual void Issue(Slot& s) = 0;
};

// App thread: a device's I/O ended with `result` (0, -errno or an NVMe status, see above).
void Complete(Slot& s, int32_t result);
// App thread: start every submission JS has published so far (before the device goes away).
void TakeAll(RingState& ring);

void Init(Napi::Env env, Napi::Object exports);

}  // namespace spdk_node::ring
