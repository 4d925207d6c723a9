// Argument checks shared by the NVMe classes: each throws a TypeError or RangeError that names
// the operation, the argument and what was wrong, before anything crosses into native code.

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return `${typeof value} ${String(value)}`;
}

/** An integer in [min, max]. */
export function integer(op: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${op}: ${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) throw new RangeError(`${op}: ${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function bytes(op: string, name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${op}: ${name} must be a Buffer or Uint8Array, got ${describe(value)}`);
  return value;
}

export function options<T extends object>(op: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw new TypeError(`${op}: options must be an object, got ${describe(value)}`);
  return value;
}
