// Local NVMe devices: see them (listDevices), hand them to a user-space driver SPDK can use
// (bindDevices), give them back to the kernel (unbindDevices). Re-exports only.
export { listDevices, NVME_PCI_CLASS } from './list';
export type { NvmeDevice, DeviceOptions } from './list';
export { bindDevices, unbindDevices } from './bind';
export type { BindOptions, BindResult, UnbindResult, DeviceChange, DeviceSelection } from './bind';
export type { UserSpaceDriver } from './drivers';
export type { DeviceUse, DeviceUseKind } from './usage';
export { systemHost } from './host';
export type { DeviceHost, HostUser } from './host';
