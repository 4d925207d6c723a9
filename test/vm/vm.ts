// The PCIe test rig's host side: boots the image scripts/vm/build-image.sh made in QEMU with
// emulated NVMe controllers (test/vm/layout.ts), talks to the agent inside (test/vm/guest/agent.js)
// over a virtio-serial port, and to QEMU's monitor (QMP) for hot removal and hot add.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFatLibrary } from '../../src/doctor';
import { controllerDevices, type VmController, type VmNamespace } from './layout';

/** Why the rig cannot run here ('' if it can): what the VM image and QEMU need. */
export function rigUnavailable(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the rig needs x86_64 Linux';
  if (spawnSync('qemu-system-x86_64', ['--version']).status !== 0) return 'qemu-system-x86_64 is not installed (scripts/pkgdep.sh installs it)';
  if (spawnSync('debootstrap', ['--version']).error) return 'debootstrap is not installed (scripts/pkgdep.sh installs it)';
  if (process.getuid?.() !== 0) return 'building the VM image needs root';
  const report = checkFatLibrary();
  if (!report.ok) return `SPDK is not usable here: ${report.problems[0]?.message ?? 'unknown'}; install it with ./build.sh`;
  return '';
}

/** Builds (or reuses, when nothing changed) the VM image; returns its directory. */
export function buildImage(): string {
  const root = join(__dirname, '..', '..');
  return execFileSync(join(root, 'scripts', 'vm', 'build-image.sh'), { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  error?: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  input?: string;
}

/** A line-oriented JSON peer on a Unix socket (the agent, QMP). */
class JsonLines {
  private pending = '';
  private readonly waiters: Array<{ match: (m: any) => boolean; resolve: (m: any) => void }> = [];
  readonly events: any[] = [];

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.pending += chunk;
      let newline: number;
      while ((newline = this.pending.indexOf('\n')) >= 0) {
        const line = this.pending.slice(0, newline).trim();
        this.pending = this.pending.slice(newline + 1);
        if (!line) continue;
        let message: any;
        try {
          message = JSON.parse(line);
        } catch {
          continue; // console noise before the agent starts
        }
        const i = this.waiters.findIndex((w) => w.match(message));
        if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(message);
        else this.events.push(message);
      }
    });
  }

  next(match: (m: any) => boolean, timeoutMs: number, what: string): Promise<any> {
    const i = this.events.findIndex(match);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: any) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`vm: no answer to ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  send(message: unknown): void {
    this.socket.write(JSON.stringify(message) + '\n');
  }
}

async function connectWhenListening(path: string, deadline: number): Promise<Socket> {
  for (;;) {
    try {
      const socket = connect(path);
      await once(socket, 'connect');
      return socket;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface BootOptions {
  image: string;
  /** Guest memory, MiB. */
  memoryMb?: number;
  hugepagesMb?: number;
  bootTimeoutMs?: number;
  /**
   * An emulated IOMMU (intel-iommu, 48-bit addresses), as on a server with VT-d enabled: vfio-pci
   * with isolation, DPDK in IOVA=VA mode. Without it, as in most cloud VMs: uio_pci_generic and
   * IOVA=PA. Default false.
   */
  iommu?: boolean;
}

export class Vm {
  private nextId = 1;
  private qmpId = 1;

  private constructor(
    private readonly qemu: ChildProcess,
    private readonly agent: JsonLines,
    private readonly monitor: JsonLines,
    readonly dir: string,
    readonly kernel: string,
    readonly bootMs: number,
  ) {}

  /** Boots the image with the rig's controllers; resolves when the agent answers. */
  static async boot(opts: BootOptions): Promise<Vm> {
    const started = Date.now();
    const env = Object.fromEntries(
      readFileSync(join(opts.image, 'image.env'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    const dir = mkdtempSync(join(tmpdir(), 'spdk-node-vm-'));
    const agentSock = join(dir, 'agent.sock');
    const qmpSock = join(dir, 'qmp.sock');
    const args = [
      '-machine', 'q35', '-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2',
      '-m', String(opts.memoryMb ?? 4096),
      '-nodefaults', '-no-reboot', '-display', 'none',
      ...(opts.iommu ? ['-device', 'intel-iommu,intremap=on,aw-bits=48'] : []),
      '-kernel', join(opts.image, 'vmlinuz'),
      '-append', [
        `root=PARTUUID=${env.root_partuuid}`, 'rw', 'console=ttyS0', 'panic=-1',
        'init=/sbin/spdk-node-vm-init', ...(opts.iommu ? ['intel_iommu=on', 'iommu=pt'] : ['intel_iommu=off']),
        `hugepages_mb=${opts.hugepagesMb ?? 2048}`,
      ].join(' '),
      '-serial', `file:${join(dir, 'console.log')}`,
      '-qmp', `unix:${qmpSock},server=on,wait=off`,
      '-chardev', `socket,id=agent,path=${agentSock},server=on,wait=off`,
      '-device', 'virtio-serial-pci,id=vser,bus=pcie.0,addr=0x2',
      '-device', 'virtserialport,chardev=agent,name=org.spdk-node.agent',
      '-drive', `if=none,id=rootdisk,file=${join(opts.image, 'root.img')},format=raw,snapshot=on`,
      '-device', 'nvme,id=root,serial=spdk-node-root,drive=rootdisk,bus=pcie.0,addr=0x3',
      // Hot-pluggable slots for the test controllers that are removed and added again.
      '-device', 'pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x8',
      ...controllerDevices().flatMap((c) => qemuArgs(c, dir)),
    ];
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let qemuStderr = '';
    qemu.stderr!.on('data', (d) => (qemuStderr += d));
    const deadline = Date.now() + (opts.bootTimeoutMs ?? 180_000);
    try {
      const exited = once(qemu, 'exit').then(([code]) => {
        throw new Error(`qemu exited (${code}): ${qemuStderr.trim()}`);
      });
      const [agentSocket, qmpSocket] = (await Promise.race([
        Promise.all([connectWhenListening(agentSock, deadline), connectWhenListening(qmpSock, deadline)]),
        exited,
      ])) as [Socket, Socket];
      const agent = new JsonLines(agentSocket);
      const monitor = new JsonLines(qmpSocket);
      await monitor.next((m) => m.QMP, 10_000, 'the QMP greeting');
      monitor.send({ execute: 'qmp_capabilities' });
      await monitor.next((m) => 'return' in m, 10_000, 'qmp_capabilities');
      const ready = await Promise.race([agent.next((m) => m.ready, deadline - Date.now(), 'boot (agent ready)'), exited]);
      exited.catch(() => {});
      return new Vm(qemu, agent, monitor, dir, ready.kernel, Date.now() - started);
    } catch (error) {
      qemu.kill('SIGKILL');
      const console = existsSync(join(dir, 'console.log')) ? readFileSync(join(dir, 'console.log'), 'utf8') : '';
      throw new Error(`${(error as Error).message}\n--- guest console (tail) ---\n${console.split('\n').slice(-30).join('\n')}`);
    }
  }

  /** The guest's console so far (kernel messages, init's lines). */
  console(): string {
    return readFileSync(join(this.dir, 'console.log'), 'utf8');
  }

  /** Runs a program in the guest. */
  async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? 120_000;
    this.agent.send({ id, argv, env: opts.env, input: opts.input, timeoutMs });
    return this.agent.next((m) => m.id === id, timeoutMs + 15_000, argv.join(' '));
  }

  /** Runs a shell command in the guest and returns its stdout; throws if it fails. */
  async sh(command: string, opts: RunOptions = {}): Promise<string> {
    const r = await this.run(['/bin/sh', '-c', command], opts);
    if (r.code !== 0) throw new Error(`vm: \`${command}\` failed (${r.code ?? r.signal ?? r.error}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /**
   * Runs a guest program from test/vm/guest/ with node (pinned to guest CPU `cpu` with taskset,
   * when given). The program prints its findings as one JSON line last; that is returned with the
   * run's output.
   */
  async node<T = any>(script: string, params: unknown = {}, opts: RunOptions & { cpu?: number } = {}): Promise<T & { _run: RunResult }> {
    const argv = ['/usr/local/bin/node', `/opt/spdk-node-vm/${script}`, JSON.stringify(params)];
    const r = await this.run(opts.cpu === undefined ? argv : ['taskset', '-c', String(opts.cpu), ...argv], opts);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    let parsed: T;
    try {
      parsed = JSON.parse(last);
    } catch {
      throw new Error(`vm: ${script} printed no JSON result (exit ${r.code ?? r.signal ?? r.error})\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
    }
    return Object.assign(parsed as object, { _run: r }) as T & { _run: RunResult };
  }

  /** A QMP command; resolves with its return value. */
  async qmp(execute: string, args?: Record<string, unknown>): Promise<any> {
    const id = this.qmpId++;
    this.monitor.send({ execute, arguments: args, id });
    const answer = await this.monitor.next((m) => m.id === id, 30_000, `QMP ${execute}`);
    if (answer.error) throw new Error(`QMP ${execute}: ${answer.error.class}: ${answer.error.desc}`);
    return answer.return;
  }

  /**
   * Hot-removes a device and waits until the guest let it go (QEMU's DEVICE_DELETED). For PCIe
   * native hotplug, device_del presses the slot's attention button; a guest that misses the press
   * (once in about five full runs the guest never answered) gets it again every 15 s, as QEMU
   * allows once a pending removal has expired.
   */
  async deviceDel(id: string, timeoutMs = 60_000): Promise<void> {
    const deleted = this.monitor.next((m) => m.event === 'DEVICE_DELETED' && m.data?.device === id, timeoutMs, `device_del ${id}`);
    let gone = false;
    void deleted.then(() => (gone = true), () => undefined);
    await this.qmp('device_del', { id });
    const pressAgain = setInterval(() => {
      if (!gone) void this.qmp('device_del', { id }).catch(() => undefined); // "already in the process of unplug": fine
    }, 15_000);
    await deleted.finally(() => clearInterval(pressAgain)).catch((error: Error) => {
      // The guest did not let go (pciehp's removal): its console says what it did meanwhile.
      throw new Error(`${error.message}\n--- guest console (tail) ---\n${this.console().split('\n').slice(-25).join('\n')}`);
    });
  }

  /** Hot-adds a controller of the layout again. */
  async deviceAdd(controller: VmController): Promise<void> {
    for (const drive of controller.namespaces) {
      await this.qmp('blockdev-add', { 'node-name': drive.drive, driver: 'raw', file: { driver: 'file', filename: join(this.dir, `${drive.drive}.img`) } }).catch((error: Error) => {
        if (!/Duplicate/.test(error.message)) throw error;
      });
    }
    await this.qmp('device_add', controllerProperties(controller));
    if (controller.driveOnController) return;
    for (const ns of controller.namespaces) await this.qmp('device_add', { driver: 'nvme-ns', ...namespaceProperties(controller, ns) });
  }

  async close(): Promise<void> {
    if (this.qemu.exitCode === null && this.qemu.signalCode === null) {
      this.qemu.kill('SIGKILL');
      await once(this.qemu, 'exit');
    }
    this.agent.socket.destroy();
    this.monitor.socket.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function qemuArgs(c: VmController, dir: string): string[] {
  const args: string[] = [];
  for (const ns of c.namespaces) {
    const file = join(dir, `${ns.drive}.img`);
    writeFileSync(file, '');
    truncateSync(file, ns.sizeMb * 1024 * 1024);
    args.push('-blockdev', `driver=raw,node-name=${ns.drive},file.driver=file,file.filename=${file}`);
  }
  args.push('-device', ['nvme', ...Object.entries(controllerProperties(c)).filter(([k]) => k !== 'driver').map(([k, v]) => `${k}=${v}`)].join(','));
  if (!c.driveOnController) {
    for (const ns of c.namespaces) args.push('-device', ['nvme-ns', ...Object.entries(namespaceProperties(c, ns)).map(([k, v]) => `${k}=${v}`)].join(','));
  }
  return args;
}

/** QEMU's properties for a controller of the layout (device_add and -device take the same). */
function controllerProperties(c: VmController): Record<string, string | number> {
  const props: Record<string, string | number> = { driver: 'nvme', id: c.id, serial: c.serial, bus: c.bus };
  if (c.addr) props.addr = c.addr;
  if (c.driveOnController) {
    const ns = c.namespaces[0]!;
    Object.assign(props, { drive: ns.drive, logical_block_size: ns.blockSize, physical_block_size: ns.blockSize });
  }
  return props;
}

function namespaceProperties(c: VmController, ns: VmNamespace): Record<string, string | number> {
  const props: Record<string, string | number> = {
    id: `${ns.drive}-ns`, drive: ns.drive, bus: c.id, nsid: ns.nsid, logical_block_size: ns.blockSize, physical_block_size: ns.blockSize,
  };
  if (ns.metadataSize) Object.assign(props, { ms: ns.metadataSize, mset: ns.extendedLba ? 1 : 0 });
  return props;
}

/** Hands a PCI function to a user-space driver in the guest. */
export async function bindInGuest(vm: Vm, addr: string, driver: 'uio_pci_generic' | 'vfio-pci'): Promise<void> {
  await vm.sh(
    `d=/sys/bus/pci/devices/${addr}; echo ${driver} > $d/driver_override; ` +
      `[ -e $d/driver ] && echo ${addr} > $d/driver/unbind; echo ${addr} > /sys/bus/pci/drivers_probe; ` +
      `basename $(readlink $d/driver)`,
  ).then((bound) => {
    if (bound.trim() !== driver) throw new Error(`vm: ${addr} is bound to ${bound.trim()}, not ${driver}`);
  });
}
