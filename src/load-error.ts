// The error thrown when spdk-node's native side cannot be loaded. It carries the doctor's report so
// that the message (and a program catching it) can say exactly what to fix, instead of passing on
// a dlopen() message such as "libspdk_fat.so.26.01: cannot open shared object file".
import type { FatLibraryReport } from './doctor';

/** spdk-node cannot load: the library, the addon or their pairing is wrong. See `report.problems`. */
export class SpdkLoadError extends Error {
  /** The doctor's findings; `report.problems` is never empty. */
  readonly report: FatLibraryReport;

  constructor(report: FatLibraryReport, options?: { cause?: unknown }) {
    const lines = report.problems.flatMap((p) => [`  - ${p.message}`, `    fix: ${p.fix}`]);
    super(
      ['spdk-node cannot load SPDK:', ...lines, 'Run `npx spdk-node doctor` for the full report.'].join('\n'),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'SpdkLoadError';
    this.report = report;
  }
}
