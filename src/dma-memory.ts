// DMA memory from Spdk.allocBuffer(), and where it lives: an I/O on it names its address in the
// submission row (checked natively against the live DMA blocks), so the Promise path needs no
// N-API call per I/O to find its memory.
import { addon } from './addon';

const addresses = new WeakMap<ArrayBufferLike, number>();

/** @internal A zero-filled DMA Buffer (arguments checked by the caller). */
export function allocDmaBuffer(size: number, align: number): Buffer {
  const native = addon();
  const memory = native.allocDma(size, align);
  addresses.set(memory, native.dmaAddress(memory));
  return Buffer.from(memory);
}

/** @internal The DMA address of a view's first byte, or 0 if it is not allocBuffer() memory. */
export function dmaAddressOf(view: Uint8Array): number {
  const base = addresses.get(view.buffer);
  return base === undefined || base === 0 ? 0 : base + view.byteOffset;
}
