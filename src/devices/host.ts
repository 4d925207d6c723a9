// Where device management reads and changes things: sysfs, procfs and /dev under one root, plus
// the few actions that are not file writes (loading a kernel module, changing a file's owner).
// The real machine is `systemHost()`; unit tests pass a fake (test/unit/fake-devices.ts) whose
// root is a temporary directory and whose writes emulate what the kernel would do.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { basename, join } from 'node:path';

/** A user to give device nodes to, as `bindDevices({ user })` needs it. */
export interface HostUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The machine whose PCI devices are listed and bound. Everything is read below `root`
 * (`${root}/sys`, `${root}/proc`, `${root}/dev`, `${root}/etc/passwd`); changes go through
 * `write`, `modprobe` and `chown` so that a fake can record them.
 */
export interface DeviceHost {
  /** The filesystem root: `'/'` for the real machine. */
  readonly root: string;
  /**
   * Writes `value` to a sysfs attribute (an absolute path below root); rejects as fs.writeFile
   * does. Asynchronous: unbinding a controller from the nvme driver shuts it down, which an SSD
   * may take seconds to do, and Node's event loop should not wait for it.
   */
  write(path: string, value: string): Promise<void> | void;
  /** Loads a kernel module with parameters (`modprobe NAME [PARAM=VALUE...]`). Throws with modprobe's message. */
  modprobe(module: string, params: readonly string[]): void;
  /** Is the module installed (loadable), though perhaps not loaded? */
  moduleInstalled(module: string): boolean;
  /** Changes the owner of a device node (an absolute path below root). */
  chown(path: string, uid: number, gid: number): void;
  /** Looks a user up by name (or numeric id); undefined when there is no such user. */
  lookupUser(name: string): HostUser | undefined;
  /** Waits (for udev to create a device node, a driver to finish probing). */
  sleep(ms: number): Promise<void>;
}

/** `${root}/${path}` for an absolute path such as `/sys/bus/pci/devices`. */
export function under(host: DeviceHost, path: string): string {
  return host.root === '/' ? path : join(host.root, path);
}

/** The trimmed text of a file, or null when it cannot be read. */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The entries of a directory, sorted; [] when it cannot be read. */
export function listDir(path: string): string[] {
  return tryListDir(path) ?? [];
}

/** The entries of a directory, sorted; null when it cannot be read. */
export function tryListDir(path: string): string[] | null {
  try {
    return readdirSync(path).sort();
  } catch {
    return null;
  }
}

/** The last component of a symbolic link's target (`driver` -> `'nvme'`), or null. */
export function linkName(path: string): string | null {
  try {
    return basename(readlinkSync(path));
  } catch {
    return null;
  }
}

/** The target of a symbolic link as written, or null. */
export function linkTarget(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export { existsSync as exists };

/**
 * Is `module` built into the kernel or installed as a loadable module, according to the module
 * tree's modules.builtin and modules.dep (what modprobe reads)? `-` and `_` are the same in
 * module names.
 */
export function moduleInKernelTree(dir: string, module: string): boolean {
  const name = module.replace(/-/g, '_');
  for (const file of ['modules.builtin', 'modules.dep']) {
    for (const line of (readText(join(dir, file)) ?? '').split('\n')) {
      const path = line.split(':')[0] ?? '';
      const base = basename(path).replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_');
      if (base === name) return true;
    }
  }
  return false;
}

/** Parses /etc/passwd (the root's) for `name` (or a numeric uid). */
export function passwdUser(passwd: string, name: string): HostUser | undefined {
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === undefined || uid === undefined || gid === undefined) continue;
    if (user === name || uid === name) return { name: user, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

function execText(file: string, args: readonly string[]): string {
  return execFileSync(file, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The real machine. */
export function systemHost(): DeviceHost {
  return {
    root: '/',
    write: (path, value) => writeFile(path, value),
    modprobe(module, params) {
      try {
        execText('modprobe', [module, ...params]);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('modprobe is not installed (package kmod)');
        const stderr = (error as { stderr?: string }).stderr?.trim();
        throw new Error(stderr || (error instanceof Error ? error.message : String(error)));
      }
    },
    moduleInstalled: (module) => moduleInKernelTree(`/lib/modules/${release()}`, module),
    chown: (path, uid, gid) => chownSync(path, uid, gid),
    lookupUser(name) {
      const local = passwdUser(readText('/etc/passwd') ?? '', name);
      if (local) return local;
      // Users from NSS (LDAP, systemd-homed...) are not in /etc/passwd: ask id(1).
      try {
        const uid = Number(execText('id', ['-u', name]).trim());
        const gid = Number(execText('id', ['-g', name]).trim());
        return { name, uid, gid };
      } catch {
        return undefined;
      }
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
