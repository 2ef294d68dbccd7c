// A function that poisons the built-ins the guest runtime answers with (JSON.stringify,
// Object.prototype.toJSON, Set.prototype.has, RegExp.prototype.exec, String.prototype methods)
// gets its own answer or its own error: the runtime writes its output with the intrinsics it took
// before user code ran (guest/src/prelude/internal.js). Before, each of these wrote output the host
// refused, and the VM was discarded as crashed. One VM per case: the poison must not leak into
// the next case through a shared VM.
import { afterEach, expect, it } from 'vitest';
import { MicroVM } from './microvm.js';
import { describeEachBackend } from './test-support/backends.js';
import type { Platform } from './transport.js';

const open: MicroVM[] = [];
afterEach(() => {
  while (open.length > 0) open.pop()!.close();
});

const CASES: [string, string, { status: number; body?: string; error?: RegExp }][] = [
  ['JSON.stringify, then a throw', "JSON.stringify = () => '{\"poison\":true}'; throw new Error('boom');", { status: 500, error: /^boom$/ }],
  ['Object.prototype.toJSON, then a throw', "Object.prototype.toJSON = () => 'poison'; throw new Error('boom');", { status: 500, error: /^boom$/ }],
  [
    'JSON.stringify, then a log line with a quote',
    "JSON.stringify = () => 'x'; console.log('say \"hi\"'); return new Response('logged');",
    { status: 200, body: 'logged' },
  ],
  [
    'Set.prototype.has, then a header value with a quote',
    "Set.prototype.has = () => true; return new Response('q', { headers: { 'x-a': 'a\"b' } });",
    { status: 200, body: 'q' },
  ],
  [
    // (poisoned after the Response is made: Headers validates names and values with regular expressions)
    'RegExp.prototype.exec, with a header value with a quote',
    "const r = new Response('q', { headers: { 'x-a': 'a\"b' } }); RegExp.prototype.exec = () => null; return r;",
    { status: 200, body: 'q' },
  ],
  [
    'String.prototype.replace and indexOf, then a throw',
    "String.prototype.replace = () => { throw 1; }; String.prototype.indexOf = () => { throw 1; }; throw new Error('boom');",
    { status: 500, error: /cannot be described|^boom$/ },
  ],
];

describeEachBackend(
  'poisoned built-ins',
  (backend: Platform) => {
    for (const [title, poison, expected] of CASES) {
      it(`${title}: the function's own answer, the VM kept`, async () => {
        const vm = await MicroVM.boot({ backend });
        open.push(vm);
        await vm.load(`export default { async fetch() { ${poison} } };`, { name: 'poisoned' });
        const result = await vm.invoke({});
        expect(result.response.status).toBe(expected.status);
        if (expected.body !== undefined) expect(result.response.body.toString('utf8')).toBe(expected.body);
        if (expected.error) expect((result as { error?: { message: string } }).error?.message).toMatch(expected.error);
        expect(vm.closed).toBe(false);
      });
    }
  },
  ['ptrace', 'process'],
);
