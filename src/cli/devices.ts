// `spdk-node devices`, `devices bind`, `devices unbind`: see the machine's NVMe controllers, hand
// them to a user-space driver SPDK can use, give them back to the kernel. Thin over src/devices.
import { parseArgs } from 'node:util';
import { canonicalPciAddress } from '../devices/address';
import { bindDevices, listDevices, unbindDevices, type DeviceChange, type DeviceSelection, type NvmeDevice } from '../devices';
import { USER_SPACE_DRIVER_NAMES, type UserSpaceDriver } from '../devices/drivers';
import { systemHost, type DeviceHost } from '../devices/host';
import { parsingArgs, UsageError, type CliIo, type Command } from './command';

function table(rows: string[][], io: CliIo): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const row of rows) io.out(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}\n`);
}

function useSummary(d: NvmeDevice): string {
  if (d.inUse.length === 0) return d.driver === 'nvme' ? 'free' : '-';
  return d.inUse.map((u) => `${u.blockDevice} ${u.detail}`).join('; ');
}

function printDevices(devices: NvmeDevice[], io: CliIo): void {
  if (devices.length === 0) {
    io.out('no NVMe controllers on this machine\'s PCI bus\n');
    return;
  }
  const rows = [['ADDRESS', 'VENDOR:DEVICE', 'DRIVER', 'NUMA', 'IOMMU', 'MODEL', 'SERIAL', 'FIRMWARE', 'BLOCK', 'IN USE']];
  for (const d of devices) {
    rows.push([
      d.address, `${d.vendorId.replace(/^0x/, '')}:${d.deviceId.replace(/^0x/, '')}`, d.driver ?? 'none',
      d.numaNode === null ? '-' : String(d.numaNode), d.iommuGroup === null ? '-' : String(d.iommuGroup),
      d.model ?? '-', d.serial ?? '-', d.firmware ?? '-', d.blockDevices.join(',') || '-', useSummary(d),
    ]);
  }
  table(rows, io);
  const bindable = devices.filter((d) => !d.userSpace && d.inUse.length === 0).map((d) => d.address);
  const ready = devices.filter((d) => d.userSpace).map((d) => d.address);
  io.out('\n');
  if (ready.length > 0) io.out(`SPDK can use: ${ready.join(' ')} (nvme.connect('trtype:PCIe traddr:${ready[0]}'))\n`);
  if (bindable.length > 0) io.out(`to let SPDK use the free ones: sudo spdk-node devices bind ${bindable.join(' ')}\n`);
  if (devices.some((d) => d.inUse.length > 0)) io.out('devices in use are never bound (data at rest only with --allow-data)\n');
  const unchecked = [...new Set(devices.flatMap((d) => d.unchecked))];
  if (unchecked.length > 0) io.out(`not checked: ${unchecked.join('; ')}\n`);
}

function printChanges(changes: DeviceChange[], io: CliIo): void {
  if (changes.length === 0) io.out('no NVMe controllers on this machine\'s PCI bus\n');
  for (const c of changes) {
    const what = c.action === 'changed' ? `${c.from ?? 'no driver'} -> ${c.to}${c.note ? ` (${c.note})` : ''}` : c.action === 'unchanged' ? `already on ${c.to ?? 'no driver'}` : `skipped: ${c.note ?? ''}`;
    io.out(`${c.address}  ${what}${c.deviceNode ? ` (${c.deviceNode})` : ''}\n`);
  }
}

function selection(positionals: readonly string[], all: boolean | undefined, command: string): DeviceSelection {
  if (all && positionals.length > 0) throw new UsageError('give PCI addresses or --all, not both');
  if (all) return { all: true };
  if (positionals.length === 0) throw new UsageError(`name the devices (PCI addresses as \`spdk-node devices\` lists them) or --all`);
  return positionals.map((p) => {
    try {
      return canonicalPciAddress(p, command);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message.replace(`${command}: `, '') : String(error));
    }
  });
}

/** The three commands over a given machine (tests pass a fake one). */
export function devicesCommands(host: () => DeviceHost = systemHost): Command[] {
  const list: Command = {
    name: 'devices',
    summary: 'List the NVMe controllers on this machine: driver, model, serial, NUMA node, IOMMU group, in use or not',
    usage: [
      'devices [--json]',
      '',
      'Reads sysfs only: attaches nothing and needs no SPDK (and no root, though without it other',
      'users\' open files and the disks\' contents cannot be checked).',
      '',
      'Options:',
      '  --json      print JSON',
      '  -h, --help  Show this help',
      '',
      'Subcommands: devices bind, devices unbind (spdk-node devices bind --help)',
    ].join('\n'),
    async run(args, io) {
      const { values } = parsingArgs(() => parseArgs({ args: [...args], options: { json: { type: 'boolean' } }, strict: true }));
      const devices = listDevices({ host: host() });
      if (values.json) io.out(`${JSON.stringify(devices, null, 2)}\n`);
      else printDevices(devices, io);
      return 0;
    },
  };

  const bind: Command = {
    name: 'devices bind',
    summary: 'Hand NVMe controllers to a user-space driver (vfio-pci or uio_pci_generic) so that SPDK can use them',
    usage: [
      'devices bind (ADDR... | --all) [--driver vfio-pci|uio_pci_generic] [--user NAME] [--allow-data] [--json]',
      '',
      'Needs root. The driver: vfio-pci when an IOMMU is on; without one, uio_pci_generic, or vfio-pci',
      'in its no-IOMMU mode (as SPDK\'s scripts/setup.sh chooses); it says which and why.',
      'A device whose storage is mounted, used as swap, held (LVM, md, dm-crypt) or open is never',
      'bound; one with data nothing uses (a partition table, a filesystem) only with --allow-data.',
      'With --all, devices in use are skipped and reported.',
      '',
      'Options:',
      '  --all                 every NVMe controller that is not in use',
      '  --driver DRIVER       vfio-pci or uio_pci_generic instead of the automatic choice',
      '  --user NAME           give NAME the vfio device nodes, so that SPDK can run as NAME',
      '  --allow-data          bind devices holding data that nothing uses',
      '  --json                print the result as JSON',
      '  -h, --help            Show this help',
    ].join('\n'),
    async run(args, io) {
      const { values, positionals } = parsingArgs(() => parseArgs({
        args: [...args], allowPositionals: true, strict: true,
        options: { all: { type: 'boolean' }, driver: { type: 'string' }, user: { type: 'string' }, 'allow-data': { type: 'boolean' }, json: { type: 'boolean' } },
      }));
      const chosen = selection(positionals, values.all, 'devices.bind');
      if (values.driver !== undefined && !(USER_SPACE_DRIVER_NAMES as readonly string[]).includes(values.driver)) {
        throw new UsageError(`--driver must be ${USER_SPACE_DRIVER_NAMES.join(' or ')}, got '${values.driver}'`);
      }
      const result = await bindDevices(chosen, {
        host: host(), allowData: values['allow-data'] ?? false,
        ...(values.driver !== undefined ? { driver: values.driver as UserSpaceDriver } : {}),
        ...(values.user !== undefined ? { user: values.user } : {}),
      });
      if (values.json) {
        io.out(`${JSON.stringify(result, null, 2)}\n`);
        return 0;
      }
      io.out(`driver: ${result.reason}\n`);
      printChanges(result.devices, io);
      for (const advice of result.advice) io.out(`note: ${advice}\n`);
      return 0;
    },
  };

  const unbind: Command = {
    name: 'devices unbind',
    summary: 'Give NVMe controllers back to the kernel\'s nvme driver',
    usage: [
      'devices unbind (ADDR... | --all) [--json]',
      '',
      'Needs root. A device a running SPDK holds (this or another process) is refused: stop it first.',
      '',
      'Options:',
      '  --all       every NVMe controller not on the nvme driver',
      '  --json      print the result as JSON',
      '  -h, --help  Show this help',
    ].join('\n'),
    async run(args, io) {
      const { values, positionals } = parsingArgs(() => parseArgs({
        args: [...args], allowPositionals: true, strict: true, options: { all: { type: 'boolean' }, json: { type: 'boolean' } },
      }));
      const result = await unbindDevices(selection(positionals, values.all, 'devices.unbind'), { host: host() });
      if (values.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
      else printChanges(result.devices, io);
      return 0;
    },
  };
  return [list, bind, unbind];
}
