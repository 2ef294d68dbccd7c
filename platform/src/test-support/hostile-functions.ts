/**
 * Functions that attack the platform from inside their VM, for the hostile suite
 * (hostile-functions.test.ts). Each answers `/ok` normally, so a test can show that the same
 * function is served again after its attack; any other path attacks.
 */
const withOk = (attack: string) => `export default { async fetch(req) {
  if (new URL(req.url).pathname === '/ok') return new Response('fine');
  ${attack}
} };`;

export interface HostileFunction {
  source: string;
  config?: { memoryMiB?: number; timeoutMs?: number };
  /** The error types (gateway `error.type`) this attack may end in; 'ok' if a 200 is acceptable. */
  outcomes: string[];
  /** Cheap enough to repeat many times in the flatness run. */
  repeat: boolean;
  /**
   * Uses the guest's test-only __fnTestAttack (guest/src/test_attacks.c): deploy it from a process
   * with FN_VMM_TEST_HOOKS=1, or it fails with a function_error (no such global).
   */
  testHooks?: boolean;
}

/**
 * What a guest whose runtime was taken over would do, one instruction or one lying doorbell each:
 * no JavaScript can, so the guest does it for a test (guest/src/test_attacks.c). The VMM ends that
 * VM, and the function is served again from its snapshot.
 */
const guestAttack = (kind: string): HostileFunction => ({
  source: withOk(`globalThis.__fnTestAttack(${JSON.stringify(kind)});`),
  outcomes: ['function_crashed'],
  repeat: false, // each forces a restore: hostile-volume.test.ts repeats them by the thousand
  testHooks: true,
});

export const HOSTILE: Record<string, HostileFunction> = {
  loop: { source: withOk('for (;;) {}'), config: { timeoutMs: 200 }, outcomes: ['timeout'], repeat: false },
  'memory-bomb': {
    source: withOk('const hoard = []; for (;;) hoard.push(new Array(1 << 16).fill(hoard.length));'),
    config: { memoryMiB: 32 },
    outcomes: ['out_of_memory'],
    repeat: false,
  },
  'deep-recursion': {
    source: withOk('const f = (n) => f(n + 1) + 1; return new Response(String(f(0)));'),
    outcomes: ['function_error', 'function_crashed'],
    repeat: true,
  },
  'huge-response': { source: withOk("return new Response('x'.repeat(7 * 1024 * 1024));"), outcomes: ['bad_response'], repeat: true },
  'header-flood': {
    source: withOk('const h = new Headers(); for (let i = 0; i < 300; i++) h.set(`x-h${i}`, String(i)); return new Response("flood", { headers: h });'),
    outcomes: ['bad_response'],
    repeat: true,
  },
  'poisoned-builtins': {
    source: withOk(`
      Object.defineProperty(Object.prototype, 'status', { get() { return 'poison'; }, configurable: true });
      Object.prototype.toJSON = () => 'poison';
      Array.prototype.push = () => { throw new Error('poisoned push'); };
      Array.prototype[Symbol.iterator] = function* () { yield 'poison'; };
      JSON.stringify = () => '{"poison":true}';
      JSON.parse = () => ({ poison: true });
      Promise.prototype.then = function () { return this; };
      Uint8Array.prototype.subarray = () => new Uint8Array(0);
      TextEncoder.prototype.encode = () => new Uint8Array([0xff, 0xfe]);
      Number.isInteger = () => true;
      Set.prototype.has = () => true;
      RegExp.prototype.exec = () => null;
      String.prototype.replace = () => { throw new Error('poisoned replace'); };
      String.prototype.indexOf = () => { throw new Error('poisoned indexOf'); };
      Object.defineProperty = () => { throw new Error('poisoned defineProperty'); };
      Reflect.apply = () => 'poison';
      console.log('a "quoted" line after the poisoning');
      globalThis.Response = function () { return { status: 'poison' }; };
      return new Response('after poisoning');`),
    // The runtime answers with the built-ins it took before user code ran (guest/src/prelude/
    // internal.js intrinsics): the function's own error, never a VM discarded for bad output.
    outcomes: ['function_error'],
    repeat: true,
  },
  'throws-non-error': {
    source: withOk("throw { toString() { throw new Error('poisoned toString'); }, get message() { throw new Error('poisoned message'); } };"),
    outcomes: ['function_error'],
    repeat: true,
  },
  'stray-syscall': guestAttack('syscall'),
  'privileged-instruction': guestAttack('privileged'),
  'read-outside-ram': guestAttack('read-outside-ram'),
  'unknown-doorbell': guestAttack('unknown-doorbell'),
  'window-length': guestAttack('window-length'),
  'window-offset': guestAttack('window-offset'),
  'window-status': guestAttack('window-status'),
};
