// check-test-reports.mjs HOST_REPORT [KVM_REPORT] — reads vitest's JSON reports of scripts/run-tests
// and decides whether the run counts:
//   - no test failed, in either report, and at least one passed;
//   - every KVM test ran on a real KVM: where this machine has a usable /dev/kvm, nothing at all may
//     be skipped; elsewhere the only skips allowed here are KVM blocks ("[kvm]" in the name), and
//     then the KVM report (from inside the nested machine) must hold KVM tests, all passed, none
//     skipped;
//   - any other skip fails the run: a test that silently does not run proves nothing.
// Prints the skipped and failed names, the number of KVM tests run, and the totals as its last line.
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';

const [hostPath, kvmPath] = process.argv.slice(2);
const problems = [];

function load(path) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  return report.testResults.flatMap((file) =>
    file.assertionResults.map((t) => ({ name: t.fullName, status: t.status === 'pending' || t.status === 'todo' ? 'skipped' : t.status, file: file.name })),
  );
}
const isKvm = (t) => t.name.includes('[kvm]');

function kvmUsableHere() {
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
}

if (!hostPath || !existsSync(hostPath)) {
  console.error(`check-test-reports: no report at ${hostPath}: vitest did not finish`);
  process.exit(1);
}
const host = load(hostPath);
const kvm = kvmPath && existsSync(kvmPath) ? load(kvmPath).filter(isKvm) : [];
const byStatus = (tests, status) => tests.filter((t) => t.status === status);

const hostSkipped = byStatus(host, 'skipped');
const failed = [...byStatus(host, 'failed'), ...byStatus(kvm, 'failed')];
const hostKvmRun = host.filter((t) => isKvm(t) && t.status !== 'skipped');
const kvmRun = [...hostKvmRun, ...kvm.filter((t) => t.status !== 'skipped')];

if (kvmUsableHere()) {
  for (const t of hostSkipped) problems.push(`skipped on a machine with /dev/kvm: ${t.name}`);
} else {
  for (const t of hostSkipped.filter((t) => !isKvm(t))) problems.push(`skipped: ${t.name}`);
  if (hostSkipped.some(isKvm) && kvm.length === 0)
    problems.push('the KVM tests were skipped here and no KVM report shows them run elsewhere (scripts/with-kvm scripts/test-kvm)');
  for (const t of byStatus(kvm, 'skipped')) problems.push(`skipped inside the nested machine: ${t.name}`);
}
if (kvmRun.length === 0) problems.push('no KVM test ran');
for (const t of failed) problems.push(`failed: ${t.name}`);

const passed = byStatus(host, 'passed').length + byStatus(kvm, 'passed').length;
if (passed === 0) problems.push('no test passed: the run is empty or broken');
// KVM blocks skipped here because they ran in the nested machine are not counted as skipped.
const skipped = kvm.length > 0 ? hostSkipped.filter((t) => !isKvm(t)).length : hostSkipped.length;

for (const p of problems) console.log(`  ${p}`);
console.log(`KVM tests run on a real KVM: ${kvmRun.length}${kvm.length ? ' (inside the nested machine of scripts/with-kvm)' : ''}`);
console.log(`${passed} passed, ${failed.length} failed, ${skipped} skipped`);
process.exit(problems.length ? 1 : 0);
