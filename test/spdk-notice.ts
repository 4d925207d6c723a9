// vitest globalSetup: say once, at the top of the run, whether the tests that need SPDK will run,
// and if not, why (the doctor's findings) and how to make them run.
import { checkFatLibrary } from '../src/doctor';

export default function setup(): void {
  const report = checkFatLibrary();
  if (report.ok) {
    const lib = report.library;
    console.log(`\nspdk-node: SPDK tests run against ${lib?.realPath ?? 'libspdk_fat.so'} (${lib?.spdkVersion ?? 'unknown version'}).\n`);
    return;
  }
  const reasons = report.problems.map((p) => `  - ${p.message}\n    fix: ${p.fix}`).join('\n');
  console.log(`\nspdk-node: the tests that need SPDK are SKIPPED, because:\n${reasons}\n` +
    'Only the tests that need no SPDK run. Each skipped suite names the reason too (vitest --reporter=verbose).\n');
}
