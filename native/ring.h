// The I/O ring: the data path for reads and writes on an open bdev, used by both the batched
// API (IoQueue) and the Promise API (bdev.read / bdev.write). It is the crossing (crossing.h)
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
// iteration. JS drains the ring and then arms a flag; the app
// thread wakes JS (through the crossing's threadsafe function) only when it publishes and finds
// the flag armed. While JS is busy draining, or spinning for more (src/ring.ts), completions pile
// up without any wake-up.
//
//   memory shared with JS, int32 words:
//     [kTailWord]   completions published (uint32, wrapping); written by the app thread
//     [kArmedWord]  1: JS is waiting for a wake-up; the app thread takes it (exchange to 0)
//     [kEntryWord + 2*i], [kEntryWord + 2*i + 1]: slot and result of entry i mod capacity
//   A result is 0, a negative errno, or a positive NVMe status: sct << 8 | sc (SPDK's bdev layer
//   keeps no Do Not Retry bit).
//
// Memory (the rule of dma_block.h): SPDK only ever touches memory native code owns. The ring
// holds a reference to its slot memory; a slot holds one to the DMA Buffer its I/O uses until the
// I/O completes. An ordinary Buffer is never touched off the JS thread: its data is copied into a
// bounce buffer at submit() (a write), and out of it by reap() before JS sees the completion (a
// read), after checking that the Buffer still has its memory (JS may detach, transfer or shrink
// it meanwhile; the read then fails with EINVAL). So a view JS detaches or transfers, or a
// worker torn down, never leaves the app thread writing into freed memory.
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

namespace spdk_node::ring {

constexpr int kTailWord = 0;
constexpr int kArmedWord = 16;  // its own cache line: JS writes it, the app thread writes the tail
constexpr int kEntryWord = 32;

void Init(Napi::Env env, Napi::Object exports);

}  // namespace spdk_node::ring
