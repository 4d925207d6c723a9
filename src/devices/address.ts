// PCI addresses as users write them ('0000:01:00.0', '01:00.0', upper or lower case) and as sysfs
// names them (domain, lower case): one canonical form, checked at the public boundary.

const PCI_ADDRESS = /^(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;

/**
 * The canonical (sysfs) form of a PCI address: `'01:00.0'` -> `'0000:01:00.0'`. Throws a TypeError
 * for a non-string and a RangeError for a string that is not a PCI address.
 */
export function canonicalPciAddress(address: unknown, operation: string): string {
  if (typeof address !== 'string') {
    throw new TypeError(`${operation}: a PCI address must be a string such as '0000:01:00.0', got ${address === null ? 'null' : typeof address}`);
  }
  const m = PCI_ADDRESS.exec(address.trim());
  if (m === null) {
    throw new RangeError(`${operation}: '${address}' is not a PCI address (expected domain:bus:device.function, e.g. '0000:01:00.0')`);
  }
  const domain = (m[1] ?? '0000').toLowerCase().padStart(4, '0');
  return `${domain}:${m[2]!.toLowerCase()}:${m[3]!.toLowerCase()}.${m[4]}`;
}
