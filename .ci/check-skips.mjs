// Reads vitest's JSON report. Prints the totals; fails if /dev/kvm exists and any test was skipped
// (KVM tests must run wherever KVM is present), or if no test ran at all.
import { existsSync, readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const tests = report.testResults.flatMap((file) => file.assertionResults);
const by = (status) => tests.filter((t) => t.status === status);
const skipped = [...by('skipped'), ...by('pending'), ...by('todo')];
const passed = by('passed').length;
const failed = by('failed').length;

console.log(`${passed} passed, ${failed} failed, ${skipped.length} skipped`);
for (const t of skipped) console.log(`  skipped: ${t.fullName}`);

if (passed === 0) {
  console.error('check-skips: no test passed — the test run is empty or broken');
  process.exit(1);
}
if (existsSync('/dev/kvm') && skipped.length > 0) {
  console.error(`check-skips: /dev/kvm exists but ${skipped.length} test(s) were skipped — KVM tests must run here`);
  process.exit(1);
}
