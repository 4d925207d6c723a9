// The emulated NVMe controllers the rig's VM has (besides its root disk, `spdk-node-root` at
// 0000:00:03.0, which is mounted and must never be taken). Fixed PCI addresses, so the guest side
// and the host side name the same device, and a hot-added controller comes back where it was.

export interface VmNamespace {
  /** QEMU block node name; also the backing file's name. */
  drive: string;
  nsid: number;
  blockSize: 512 | 4096;
  sizeMb: number;
  /** Metadata bytes per block, and whether they are interleaved with the data (extended LBA). */
  metadataSize?: number;
  extendedLba?: boolean;
}

export interface VmController {
  /** QEMU device id (for device_del / device_add). */
  id: string;
  serial: string;
  /** PCI address in the guest. */
  pciAddress: string;
  bus: string;
  addr?: string;
  /**
   * Its one namespace is the controller's own drive (`nvme,drive=...`) rather than an nvme-ns
   * device: QEMU cannot hot-add nvme-ns devices, so a controller that is hot-added has this.
   */
  driveOnController?: boolean;
  namespaces: VmNamespace[];
}

export const ROOT_DISK = { serial: 'spdk-node-root', pciAddress: '0000:00:03.0' } as const;

/** Two namespaces of different LBA formats; at the address the README's examples use. */
export const CTRL_A: VmController = {
  id: 'nvme-a', serial: 'SPDKNODE-A', pciAddress: '0000:00:05.0', bus: 'pcie.0', addr: '0x5',
  namespaces: [
    { drive: 'a1', nsid: 1, blockSize: 512, sizeMb: 64 },
    { drive: 'a2', nsid: 2, blockSize: 4096, sizeMb: 64 },
  ],
};

/** A namespace with interleaved metadata (8 bytes per 512-byte block), one with separate metadata. */
export const CTRL_C: VmController = {
  id: 'nvme-c', serial: 'SPDKNODE-C', pciAddress: '0000:00:04.0', bus: 'pcie.0', addr: '0x4',
  namespaces: [
    { drive: 'c1', nsid: 1, blockSize: 512, sizeMb: 32, metadataSize: 8, extendedLba: true },
    { drive: 'c2', nsid: 2, blockSize: 512, sizeMb: 32, metadataSize: 8, extendedLba: false },
  ],
};

/** Behind a PCIe root port: the one that is hot-removed and hot-added. */
export const CTRL_B: VmController = {
  id: 'nvme-b', serial: 'SPDKNODE-B', pciAddress: '0000:01:00.0', bus: 'rp1', driveOnController: true,
  namespaces: [{ drive: 'b1', nsid: 1, blockSize: 4096, sizeMb: 64 }],
};

export function controllerDevices(): VmController[] {
  return [CTRL_A, CTRL_C, CTRL_B];
}
