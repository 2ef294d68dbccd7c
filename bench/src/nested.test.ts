import { rmSync } from 'node:fs';
import { afterEach, expect, it, vi } from 'vitest';
import { reportedBackend } from './nested.js';
import { report } from './report.js';

const saved = process.env.FN_KVM_NESTED;
afterEach(() => {
  if (saved === undefined) delete process.env.FN_KVM_NESTED;
  else process.env.FN_KVM_NESTED = saved;
  vi.restoreAllMocks();
});

it('names KVM inside the nested machine kvm-nested, and nothing else', () => {
  process.env.FN_KVM_NESTED = '1';
  expect(reportedBackend('kvm')).toBe('kvm-nested');
  expect(reportedBackend('ptrace')).toBe('ptrace');
});

it('marks a report taken inside the nested machine as not representative', () => {
  process.env.FN_KVM_NESTED = '1';
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  report('nested-test', { backend: 'kvm', invoke_us_p50: 12 }, {}, { quick: true, json: true });
  const record = JSON.parse(out.at(-1)!);
  expect(record.backend).toBe('kvm-nested');
  expect(record.representative).toBe(false);
  expect(out.join('')).toMatch(/NOT representative/);
  const saved = /saved (\S+)/.exec(out.join(''))?.[1];
  if (saved) rmSync(saved);
});
