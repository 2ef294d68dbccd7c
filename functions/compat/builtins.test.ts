// The guest's ES2023 built-ins (QuickJS 2021 lacks them; guest/src/prelude/es2023.js provides them)
// against Node's own, case by case: the same cases run in Node, the reference, and in the real
// guest, on every backend.
import { describe, expect, it } from 'vitest';
import { describeEachBackend } from '../../vmm/src/test-support/backends.js';
import { cases, runCases } from './builtins/es2023-cases.js';
import { bodyText, invokeInGuest } from './test-support/guest.js';

describe('ES2023 cases in Node (the reference)', () => {
  it('Node implements every method the cases use', () => {
    expect(typeof Array.prototype.toSpliced).toBe('function');
    expect(cases.length).toBeGreaterThan(100);
  });
});

describeEachBackend('ES2023 built-ins in the guest', (backend) => {
  it('every case gives what Node gives', async () => {
    const reference = runCases();
    const guest = JSON.parse(bodyText(await invokeInGuest(backend, 'builtins/es2023.js')));
    for (const [name] of cases) {
      expect({ name, outcome: guest[name] }).toEqual({ name, outcome: JSON.parse(JSON.stringify(reference[name])) });
    }
  });
});
