// `spdk-node bdev list`: the bdevs of an SPDK started here with a config, or of a running SPDK
// application reached through its RPC socket.
import { parseArgs } from 'node:util';
import { RpcClient } from '../rpc';
import { parsingArgs, UsageError, type Command, type CliIo } from './command';
import { spdkOptionSpecs, spdkOptionsUsage, startOptions, withSpdk } from './spdk-options';

interface Row {
  name: string;
  product: string;
  blockSize: number;
  numBlocks: number;
}

function print(rows: Row[], json: boolean, io: CliIo): void {
  if (json) {
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    io.out('no bdevs\n');
    return;
  }
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  io.out(`${'NAME'.padEnd(width)}  ${'SIZE'.padStart(10)}  ${'BLOCK'.padStart(6)}  PRODUCT\n`);
  for (const r of rows) {
    const size = r.blockSize * r.numBlocks;
    const human = size >= 2 ** 30 ? `${(size / 2 ** 30).toFixed(1)} GiB` : `${(size / 2 ** 20).toFixed(1)} MiB`;
    io.out(`${r.name.padEnd(width)}  ${human.padStart(10)}  ${String(r.blockSize).padStart(6)}  ${r.product}\n`);
  }
}

export const bdevListCommand: Command = {
  name: 'bdev list',
  summary: 'List bdevs: of SPDK started here with --config, or of a running SPDK app via --rpc',
  usage: [
    'bdev list (--config FILE | --rpc SOCKET) [--json] [SPDK options]',
    '',
    'Options:',
    '  --rpc SOCKET        ask a running SPDK application (spdk_tgt, another spdk-node) instead',
    '  --json              print JSON',
    ...spdkOptionsUsage,
    '  -h, --help          Show this help',
  ].join('\n'),
  async run(args, io) {
    const { values } = parsingArgs(() =>
      parseArgs({ args: [...args], options: { rpc: { type: 'string' }, json: { type: 'boolean' }, ...spdkOptionSpecs }, strict: true }),
    );
    const json = values.json ?? false;
    if (values.rpc !== undefined) {
      await using client = await RpcClient.connect(values.rpc);
      const bdevs = await client.bdev_get_bdevs();
      print(bdevs.map((b) => ({ name: b.name, product: b.product_name, blockSize: b.block_size, numBlocks: b.num_blocks })), json, io);
      return 0;
    }
    if (values.config === undefined) throw new UsageError('give --config FILE (start SPDK here with it) or --rpc SOCKET (ask a running SPDK)');
    return withSpdk(startOptions(values), io, async (spdk) => {
      print(spdk.bdevs().map((b) => ({ name: b.name, product: b.productName, blockSize: b.blockSize, numBlocks: b.numBlocks })), json, io);
      return 0;
    });
  },
};
