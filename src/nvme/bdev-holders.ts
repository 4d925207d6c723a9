// Which bdev_nvme controller (SPDK's NVMe bdev module, in this same process) holds an NVMe
// controller: asked through the instance's own JSON-RPC (bdev_nvme_get_controllers), so that an
// EBUSY from connect() and the entries of list() can name it.
import type { RpcClient } from '../rpc/client';
import type { TransportId } from './transport-id';

export interface BdevNvmeHolder {
  /** The bdev_nvme controller's name (`'Nvme0'`): its bdevs are `Nvme0n1`... */
  name: string;
  trtype: string;
  traddr: string;
  trsvcid: string;
  subnqn: string;
  hostnqn: string;
}

/** A PCI address in one spelling (domain included, lower case), for comparing. */
export function pciKey(traddr: string): string {
  const lower = traddr.toLowerCase();
  return /^[0-9a-f]{2}:/.test(lower) ? `0000:${lower}` : lower;
}

/** Do a bdev_nvme path and a transport ID name the same controller (as SPDK compares them)? */
export function sameController(holder: BdevNvmeHolder, trid: TransportId, hostnqn: string | undefined): boolean {
  if (holder.trtype.toLowerCase() !== trid.trtype.toLowerCase()) return false;
  if (trid.trtype === 'PCIe') return trid.traddr !== undefined && pciKey(holder.traddr) === pciKey(trid.traddr);
  return holder.traddr.toLowerCase() === (trid.traddr ?? '').toLowerCase()
    && holder.trsvcid.toLowerCase() === String(trid.trsvcid ?? '').toLowerCase()
    && holder.subnqn === (trid.subnqn ?? '')
    && (hostnqn === undefined || hostnqn === '' || holder.hostnqn === hostnqn);
}

/** Every path of every bdev_nvme controller; [] when there is no RPC (or it fails). */
export async function bdevNvmeHolders(rpc: RpcClient | null): Promise<BdevNvmeHolder[]> {
  if (rpc === null) return [];
  try {
    const controllers = await rpc.bdev_nvme_get_controllers();
    return controllers.flatMap((c) => c.ctrlrs.flatMap((path) => [path.trid, ...(path.alternate_trids ?? [])].map((t) => ({
      name: c.name, trtype: t.trtype ?? '', traddr: t.traddr ?? '', trsvcid: t.trsvcid ?? '', subnqn: t.subnqn ?? '', hostnqn: path.host.nqn,
    }))));
  } catch {
    return [];
  }
}
