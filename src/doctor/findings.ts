// What the doctor tells the user: findings, each with the command that fixes it. The commands live
// here, in one place, so that every message names the same scripts the same way, and they depend on
// where the package is: a clone has the `spdk` submodule and `npm run build:native`; an installed
// package (node_modules) has neither a submodule nor a git checkout, but ships build.sh.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/** One thing the doctor found wrong. */
export interface Finding {
  /** Stable identifier for scripts and tests, e.g. `'library-missing'`. */
  id: string;
  /** What is wrong, naming the file or setting involved. */
  message: string;
  /** The command (or, where no command can do it, the action) that fixes it. */
  fix: string;
}

/** Collects problems (spdk-node cannot load) and warnings (it loads, but something will hurt). */
export class Findings {
  readonly problems: Finding[] = [];
  readonly warnings: Finding[] = [];

  problem(id: string, message: string, fix: string): void {
    this.problems.push({ id, message, fix });
  }

  warning(id: string, message: string, fix: string): void {
    this.warnings.push({ id, message, fix });
  }
}

/** SPDK wants about this much hugepage memory for its default memory pools. */
export const SPDK_HUGEPAGE_MB = 1024;

/** The SPDK release build.sh is pinned to (the `spdk` submodule's tag) and the addon is written for. */
export const SPDK_RELEASE = 'v26.01';
/** Where SPDK's sources come from when there is no submodule. */
export const SPDK_GIT_URL = 'https://github.com/spdk/spdk.git';

/**
 * How spdk-node got where it is: `'clone'` a git checkout of the repository (with the `spdk`
 * submodule), `'node_modules'` installed by a package manager, `'unpacked'` neither (an unpacked
 * tarball, a copy).
 */
export type PackageInstall = 'clone' | 'node_modules' | 'unpacked';

/** Which kind of install `root` (the package's directory) is. */
export function packageInstall(root: string): PackageInstall {
  if (root.split(sep).includes('node_modules')) return 'node_modules';
  return existsSync(join(root, '.git')) ? 'clone' : 'unpacked'; // .git: a directory, or a file in a worktree
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The fix commands, written to work from the user's current directory and for the kind of install. */
export class Fixes {
  constructor(
    private readonly root: string,
    private readonly cwd: string = process.cwd(),
    readonly install: PackageInstall = packageInstall(root),
  ) {}

  /** `command` run from the package root: prefixed with a `cd` unless the user is already there. */
  inPackage(command: string): string {
    if (relative(this.cwd, this.root) === '') return command;
    return `cd ${shellQuote(this.root)} && ${command}`;
  }

  /** A file of the package as the user types it from `cwd`: `./build.sh`, `node_modules/spdk-node/build.sh`, or absolute. */
  packageFile(file: string): string {
    const path = join(this.root, file);
    const shown = relative(this.cwd, path);
    if (shown.startsWith('..') || isAbsolute(shown)) return shellQuote(path);
    return shellQuote(shown.includes('/') ? shown : `./${shown}`);
  }

  /** The project whose node_modules holds the package (where `npm rebuild` is run), for 'node_modules'. */
  private project(): string {
    const parts = this.root.split(sep);
    return parts.slice(0, parts.indexOf('node_modules')).join(sep) || sep;
  }

  buildLibrary(): string {
    if (this.install === 'clone') {
      return this.inPackage('git submodule update --init --recursive && sudo scripts/pkgdep.sh && sudo ./build.sh (or ./build.sh --spdk-dir DIR)');
    }
    // No submodule outside a clone: SPDK's own repository at the pinned release, and the package's build.sh.
    return `git clone --depth 1 --branch ${SPDK_RELEASE} --recurse-submodules --shallow-submodules ${SPDK_GIT_URL}`
      + ` && sudo ${this.packageFile('scripts/pkgdep.sh')} && sudo ${this.packageFile('build.sh')} --spdk-dir spdk`
      + ` (or --spdk-dir DIR, an SPDK ${SPDK_RELEASE} tree of your own)`;
  }

  /** The command that (re)builds the addon, without the `cd` that buildAddon() adds. */
  addonCommand(): string {
    return this.install === 'node_modules' ? 'npm rebuild spdk-node' : 'npm run build:native';
  }

  buildAddon(): string {
    if (this.install !== 'node_modules') return this.inPackage(this.addonCommand());
    const project = this.project();
    return relative(this.cwd, project) === '' ? this.addonCommand() : `cd ${shellQuote(project)} && ${this.addonCommand()}`;
  }

  installDependencies(): string {
    return this.inPackage('sudo scripts/pkgdep.sh');
  }

  /** Reserves hugepages of the default size (`pages` of them, SPDK_HUGEPAGE_MB by default) and mounts hugetlbfs. */
  hugepages(pageSizeKb: number | null, pages = Math.ceil((SPDK_HUGEPAGE_MB * 1024) / (pageSizeKb ?? 2048))): string {
    return `${this.inPackage('sudo scripts/hugepages.sh')} (or by hand: echo ${pages} | sudo tee /proc/sys/vm/nr_hugepages`
      + ' && sudo mkdir -p /dev/hugepages && sudo mount -t hugetlbfs nodev /dev/hugepages)';
  }

  mountHugetlbfs(): string {
    return 'sudo mkdir -p /dev/hugepages && sudo mount -t hugetlbfs nodev /dev/hugepages';
  }
}
