import { describe, expect, it } from 'vitest';
import { InvalidSubjectError } from './errors.js';
import { parseSubject, resolveSubject, within } from './subjects.js';

const w = (subject: string, pattern: string) => within(parseSubject(subject, 'pattern'), parseSubject(pattern, 'pattern'));

describe('subjects', () => {
  it('rejects malformed subjects and wildcards where a concrete subject is needed', () => {
    for (const bad of ['', 'a..b', '.a', 'a.', 'a b', 'a.>.b', 'a.b*', 'x'.repeat(257)]) {
      expect(() => parseSubject(bad, 'pattern'), bad).toThrow(InvalidSubjectError);
    }
    expect(() => parseSubject('a.*', 'concrete')).toThrow(/wildcards/);
    expect(parseSubject('worker.w-1.invoke', 'concrete')).toEqual(['worker', 'w-1', 'invoke']);
  });

  it('matches like NATS', () => {
    expect(w('a.b', 'a.*')).toBe(true);
    expect(w('a.b.c', 'a.*')).toBe(false);
    expect(w('a', 'a.*')).toBe(false);
    expect(w('a.b', 'a.>')).toBe(true);
    expect(w('a.b.c', 'a.>')).toBe(true);
    expect(w('a', 'a.>')).toBe(false);
    expect(w('a.b', 'a.b')).toBe(true);
    expect(w('a.c', 'a.b')).toBe(false);
  });

  it('tells whether a subscription pattern stays inside a contract pattern', () => {
    expect(w('worker.w1.*', 'worker.*.*')).toBe(true);
    expect(w('worker.*.invoke', 'worker.*.invoke')).toBe(true);
    expect(w('worker.>', 'worker.*.invoke')).toBe(false);
    expect(w('worker.*.>', 'worker.>')).toBe(true);
    expect(w('worker.>', 'worker.*')).toBe(false);
  });

  it('resolves the subject a call uses against its contract', () => {
    expect(resolveSubject('scheduler.invoke', undefined, 'concrete')).toBe('scheduler.invoke');
    expect(resolveSubject('worker.*.invoke', 'worker.w1.invoke', 'concrete')).toBe('worker.w1.invoke');
    expect(() => resolveSubject('worker.*.invoke', undefined, 'concrete')).toThrow(/pass the concrete subject/);
    expect(() => resolveSubject('worker.*.invoke', 'worker.w1.claim', 'concrete')).toThrow(/outside/);
  });
});
