// The doctor's view of local NVMe devices: each controller, its driver, and what to do so that
// SPDK can use it (bind it, or nothing: it is in use by the system).
import { listDevices, type NvmeDevice } from '../devices/list';
import type { DeviceHost } from '../devices/host';

export function probeDevices(host: DeviceHost | undefined): NvmeDevice[] {
  try {
    return listDevices(host === undefined ? undefined : { host });
  } catch {
    return [];
  }
}

/** One line per controller for the doctor's `nvme` row. */
export function describeDevices(devices: readonly NvmeDevice[]): string[] {
  if (devices.length === 0) return ['no NVMe controllers on the PCI bus (NVMe-oF and bdevs need none)'];
  return devices.map((d) => {
    const identity = [d.model, d.serial].filter((x) => x !== null).join(', ');
    const head = `${d.address} ${d.driver ?? 'no driver'}${identity ? ` (${identity})` : ''}`;
    if (d.userSpace && d.inUse.length > 0) return `${head}: held by ${d.inUse.map((u) => u.detail.replace(/^open by /, '')).join(', ')} (SPDK running)`;
    if (d.userSpace) return `${head}: ready for SPDK as trtype:PCIe traddr:${d.address}; \`sudo spdk-node devices unbind ${d.address}\` gives it back`;
    const active = d.inUse.filter((u) => u.kind !== 'data');
    if (active.length > 0) return `${head}: in use by the system (${active.map((u) => `${u.blockDevice} ${u.detail}`).join('; ')}), not for SPDK`;
    if (d.inUse.length > 0) return `${head}: holds data (${d.inUse.map((u) => `${u.blockDevice}: ${u.detail}`).join('; ')}); \`sudo spdk-node devices bind ${d.address} --allow-data\` to give it to SPDK anyway`;
    return `${head}: free; \`sudo spdk-node devices bind ${d.address}\` to let SPDK use it`;
  });
}
