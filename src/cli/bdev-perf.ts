// `spdk-node bdev perf`: random or sequential I/O on a bdev through the batched queue, with a
// line of progress per second.
import { parseArgs } from 'node:util';
import { parsingArgs, UsageError, type Command } from './command';
import { spdkOptionSpecs, spdkOptionsUsage, startOptions, withSpdk } from './spdk-options';

const workloads = ['randread', 'randwrite', 'read', 'write'] as const;
type Workload = (typeof workloads)[number];

function positiveInt(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}, not '${text}'`);
  return n;
}

export const bdevPerfCommand: Command = {
  name: 'bdev perf',
  summary: 'Measure IOPS and bandwidth on a bdev (batched queue), with progress each second',
  usage: [
    'bdev perf <bdev> --config FILE [--workload W] [--qd N] [--io-size BYTES] [--time SECONDS] [SPDK options]',
    '',
    'Options:',
    `  --workload W        ${workloads.join(', ')} (default randread)`,
    '  --qd N              I/Os in flight (default 128)',
    '  --io-size BYTES     bytes per I/O, a multiple of the block size (default 4096)',
    '  --time SECONDS      how long (default 5)',
    ...spdkOptionsUsage,
    '  -h, --help          Show this help',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parsingArgs(() =>
      parseArgs({
        args: [...args],
        allowPositionals: true,
        options: { workload: { type: 'string' }, qd: { type: 'string' }, 'io-size': { type: 'string' }, time: { type: 'string' }, ...spdkOptionSpecs },
        strict: true,
      }),
    );
    const [name, ...extra] = positionals;
    if (name === undefined) throw new UsageError('name the bdev to measure');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (values.config === undefined) throw new UsageError('give --config FILE with the bdev to measure');
    const workload = (values.workload ?? 'randread') as Workload;
    if (!workloads.includes(workload)) throw new UsageError(`--workload must be one of ${workloads.join(', ')}`);
    const qd = positiveInt('qd', values.qd, 128, 4096);
    const ioSize = positiveInt('io-size', values['io-size'], 4096, 1 << 20);
    const seconds = positiveInt('time', values.time, 5, 3600);

    return withSpdk(startOptions(values), io, async (spdk) => {
      await using bdev = await spdk.openBdev(name, { write: workload.endsWith('write') });
      if (ioSize % bdev.blockSize !== 0) throw new UsageError(`--io-size must be a multiple of ${name}'s block size (${bdev.blockSize})`);
      const slots = Math.floor(bdev.sizeBytes / ioSize);
      const random = workload.startsWith('rand');
      const write = workload.endsWith('write');
      let next = 0;
      const offset = (): number => (random ? Math.floor(Math.random() * slots) : next++ % slots) * ioSize;
      await using q = bdev.createQueue({ depth: qd, ioSize });
      let done = 0;
      let errors = 0;
      let lastDone = 0;
      const started = Date.now();
      const deadline = started + seconds * 1000;
      const tick = setInterval(() => {
        io.err(`  ${Math.round((Date.now() - started) / 1000)}s: ${((done - lastDone) / 1000).toFixed(0)}K IOPS\n`);
        lastDone = done;
      }, 1000);
      const cpu0 = process.cpuUsage();
      await new Promise<void>((resolve) => {
        const issue = (slot: number): void => (write ? q.prepWrite(slot, offset(), ioSize) : q.prepRead(slot, offset(), ioSize));
        q.onCompletions = (n, doneSlots, results) => {
          done += n;
          const more = Date.now() < deadline;
          for (let i = 0; i < n; i++) {
            if (results[i] !== 0) errors++;
            if (more) issue(doneSlots[i]!);
          }
          q.submit();
          if (q.inflight === 0) resolve();
        };
        for (let s = 0; s < qd; s++) issue(s);
        q.submit();
      });
      clearInterval(tick);
      const secs = (Date.now() - started) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const iops = done / secs;
      io.out(`${name} ${workload} qd=${qd} io=${ioSize}B: ${Math.round(iops).toLocaleString('en-US')} IOPS, ` +
        `${((iops * ioSize) / 2 ** 20).toFixed(1)} MiB/s, ${errors} errors, Node CPU ${((cpu.user + cpu.system) / 1e6 / secs).toFixed(2)} cores\n`);
      return errors === 0 ? 0 : 1;
    });
  },
};
