// The batched I/O path: an I/O queue on an open bdev, in the style of io_uring.
//
// JS stages operations in a submission array it shares with native code (a Float64Array of
// [opcode, slot, offset, length] rows) and calls submit(n): one crossing carries all n to the
// app thread, which submits each to the bdev. Every slot owns a fixed region of one DMA buffer,
// so data never moves. Completions are collected on the app thread and handed back in batches
// through the crossing: the JS thread gets one callback with (slot, result) pairs written into
// shared completion arrays, however many completed since the last one.
//
// No promise, no per-I/O object, no per-I/O N-API call: the cost per I/O is a few array writes
// on each side and the bdev call itself.
#pragma once

#include <napi.h>

namespace spdk_node::queue {

void Init(Napi::Env env, Napi::Object exports);

}  // namespace spdk_node::queue
