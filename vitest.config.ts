import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
// Inside the nested KVM machine (scripts/with-kvm) code runs 10-50x slower; it sets FN_TIMEOUT_SCALE.
const timeoutScale = Math.max(1, Number(process.env.FN_TIMEOUT_SCALE) || 1);

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources of sibling workspaces, not their dist/ builds.
    alias: {
      '@fn/contract': here('./contract/src/index.ts'),
      '@fn/telemetry': here('./telemetry/src/index.ts'),
      '@fn/vmm': here('./vmm/src/index.ts'),
      '@fn/cli': here('./cli/src/index.ts'),
      '@fn/snapshots': here('./snapshots/src/index.ts'),
      '@fn/registry': here('./registry/src/index.ts'),
      '@fn/scheduler': here('./scheduler/src/index.ts'),
      '@fn/gateway': here('./gateway/src/index.ts'),
      '@fn/worker': here('./worker/src/index.ts'),
      '@fn/platform': here('./platform/src/index.ts'),
    },
  },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/build/**'],
    // VMs are real processes or real KVM guests: give them room, and don't oversubscribe 2 cores.
    testTimeout: 60_000 * timeoutScale,
    hookTimeout: 60_000 * timeoutScale,
    fileParallelism: false,
    // The JSON report lets .ci/run prove that no KVM test was skipped on a machine with /dev/kvm.
    reporters: ['default', 'json'],
    outputFile: { json: './build/test-report.json' },
  },
});
