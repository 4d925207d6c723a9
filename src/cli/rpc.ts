// `spdk-node rpc`: call one JSON-RPC method of a running SPDK application and print the result.
import { parseArgs } from 'node:util';
import { RpcError } from '../errors';
import { DEFAULT_RPC_SOCKET, RpcClient } from '../rpc';
import { parsingArgs, UsageError, type Command } from './command';

export const rpcCommand: Command = {
  name: 'rpc',
  summary: 'Call an SPDK JSON-RPC method on a running SPDK application and print the result',
  usage: [
    'rpc <method> [JSON params] [--socket PATH] [--timeout SECONDS]',
    '',
    'Options:',
    `  --socket PATH       the application's RPC socket (default ${DEFAULT_RPC_SOCKET})`,
    '  --timeout SECONDS   how long to wait for the answer (default 30)',
    '  -h, --help          Show this help',
    '',
    'Example: spdk-node rpc bdev_malloc_create \'{"name":"M0","num_blocks":2048,"block_size":4096}\'',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parsingArgs(() =>
      parseArgs({ args: [...args], allowPositionals: true, options: { socket: { type: 'string' }, timeout: { type: 'string' } }, strict: true }),
    );
    const [method, paramsText, ...extra] = positionals;
    if (method === undefined) throw new UsageError('name the method to call (spdk-node rpc rpc_get_methods lists them)');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}': put all params in one JSON argument`);
    let params: unknown;
    if (paramsText !== undefined) {
      try {
        params = JSON.parse(paramsText);
      } catch (error) {
        throw new UsageError(`params are not valid JSON: ${(error as Error).message}`);
      }
      if (params === null || typeof params !== 'object') throw new UsageError('params must be a JSON object or array');
    }
    const timeout = values.timeout === undefined ? 30 : Number(values.timeout);
    // A timer holds at most 2^31 - 1 ms (about 24.8 days); Infinity waits forever.
    if (!(timeout > 0) || (timeout !== Infinity && timeout * 1000 > 2 ** 31 - 1)) {
      throw new UsageError('--timeout must be a positive number of seconds, at most 2147483 (or Infinity)');
    }
    await using client = await RpcClient.connect(values.socket ?? DEFAULT_RPC_SOCKET, { timeoutMs: timeout * 1000 });
    try {
      const result = await client.call(method as string, params);
      io.out(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    } catch (error) {
      if (error instanceof RpcError) {
        io.err(`${error.message}\n`);
        return 1;
      }
      throw error;
    }
  },
};
