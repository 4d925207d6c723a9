// `spdk-node nvme identify`: connect to an NVMe controller through SPDK's NVMe driver (local PCIe,
// or NVMe over Fabrics) and print its identify data, namespaces and health.
import { parseArgs } from 'node:util';
import { parsingArgs, UsageError, type CliIo, type Command } from './command';
import { spdkOptionSpecs, spdkOptionsUsage, startOptions, withSpdk } from './spdk-options';
import type { NvmeController } from '../nvme/controller';

function describe(ctrlr: NvmeController, health: unknown, io: CliIo): void {
  const d = ctrlr.data;
  io.out(`controller  ${d.mn.trim()} (serial ${d.sn.trim()}, firmware ${d.fr.trim()})\n`);
  io.out(`            vendor 0x${d.vid.toString(16).padStart(4, '0')}, NVMe ${d.ver.major}.${d.ver.minor}.${d.ver.tertiary}, ` +
    `controller ID ${d.cntlid}, ${d.nn} namespace slot(s), max transfer ${ctrlr.maxTransferSize} bytes\n`);
  io.out(`            ${d.subnqn}\n`);
  for (const ns of ctrlr.namespaces()) {
    io.out(`namespace ${ns.id}  ${ns.numSectors} sectors of ${ns.sectorSize} bytes (${(ns.sizeBytes / 2 ** 30).toFixed(2)} GiB)` +
      `${ns.metadataSize ? `, ${ns.metadataSize} bytes metadata` : ''}${ns.uuid ? `, uuid ${ns.uuid}` : ''}\n`);
  }
  const h = health as { temperatureKelvin: number; percentageUsed: number; availableSparePercent: number; criticalWarning: number };
  io.out(`health      ${h.temperatureKelvin ? `${h.temperatureKelvin - 273} C, ` : ''}${h.percentageUsed}% used, ` +
    `${h.availableSparePercent}% spare, critical warnings 0x${h.criticalWarning.toString(16)}\n`);
}

export const nvmeIdentifyCommand: Command = {
  name: 'nvme identify',
  summary: 'Identify an NVMe controller (PCIe or NVMe-oF): model, serial, namespaces, health',
  usage: [
    'nvme identify <transport ID> [--json] [SPDK options]',
    '',
    'The transport ID is in SPDK\'s form, for example:',
    "  'trtype:PCIe traddr:0000:01:00.0'",
    "  'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.2016-06.io.spdk:cnode1'",
    '',
    'Options:',
    '  --json              print identify data, namespaces and health log as JSON',
    ...spdkOptionsUsage,
    '  -h, --help          Show this help',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parsingArgs(() =>
      parseArgs({ args: [...args], allowPositionals: true, options: { json: { type: 'boolean' }, ...spdkOptionSpecs }, strict: true }),
    );
    if (positionals.length === 0) throw new UsageError('give the controller\'s transport ID');
    // The transport ID may come as one quoted argument or as several words.
    const trid = positionals.join(' ');
    return withSpdk(startOptions(values), io, async (spdk) => {
      io.err(`connecting to ${trid}...\n`);
      await using ctrlr = await spdk.nvme.connect(trid);
      const health = await ctrlr.healthLog();
      if (values.json) {
        const namespaces = ctrlr.namespaces().map((ns) => ({
          id: ns.id, numSectors: ns.numSectors, sectorSize: ns.sectorSize, sizeBytes: ns.sizeBytes, metadataSize: ns.metadataSize, uuid: ns.uuid, nguid: ns.nguid,
        }));
        io.out(`${JSON.stringify({ transportId: trid, data: ctrlr.data, namespaces, health }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
      } else {
        describe(ctrlr, health, io);
      }
      return 0;
    });
  },
};
