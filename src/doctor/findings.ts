// What the doctor tells the user: findings, each with the command that fixes it. The commands live
// here, in one place, so that every message names the same scripts the same way.
import { relative } from 'node:path';

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

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The fix commands, written to work from the user's current directory. */
export class Fixes {
  constructor(private readonly root: string, private readonly cwd: string = process.cwd()) {}

  /** `command` run from the package root: prefixed with a `cd` unless the user is already there. */
  inPackage(command: string): string {
    if (relative(this.cwd, this.root) === '') return command;
    return `cd ${shellQuote(this.root)} && ${command}`;
  }

  buildLibrary(): string {
    return this.inPackage('git submodule update --init --recursive && sudo scripts/pkgdep.sh && sudo ./build.sh (or ./build.sh --spdk-dir DIR)');
  }

  buildAddon(): string {
    return this.inPackage('npm run build:native');
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
