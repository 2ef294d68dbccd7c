// A hostile guest writes garbage into the window (here: into the process transport's frames).
// The host must refuse every lie with a typed error, discard that VM, and keep serving.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { GuestCrashedError, GuestTimeoutError } from './errors.js';
import { MicroVM } from './microvm.js';
import { ProcessTransport } from './process-transport.js';
import { HELLO } from './test-support/bundles.js';

const hostileGuest = fileURLToPath(new URL('./test-support/hostile-process-guest.mjs', import.meta.url));
const previous = process.env.FN_HOSTILE_SCENARIO;
afterEach(() => {
  if (previous === undefined) delete process.env.FN_HOSTILE_SCENARIO;
  else process.env.FN_HOSTILE_SCENARIO = previous;
});

async function hostile(scenario: string, timeoutMs = 2000): Promise<MicroVM> {
  process.env.FN_HOSTILE_SCENARIO = scenario;
  return MicroVM.attach(new ProcessTransport({ platform: 'process', path: hostileGuest, args: [] }), 64, timeoutMs);
}

describe('a hostile guest on the process transport', () => {
  it('random bytes instead of frames are refused at boot', async () => {
    const err = await hostile('random', 500).catch((e: unknown) => e);
    // Almost always an impossible length (bad_window); if the random length happens to fit, the
    // frame never completes and the boot times out. Either way: a typed error, nothing accepted.
    const refused = (err instanceof GuestCrashedError && err.reason === 'bad_window') || err instanceof GuestTimeoutError;
    expect(refused, String(err)).toBe(true);
  });

  const lies: [string, RegExp, new (...args: never[]) => Error][] = [
    ['huge-output-len', /4294967295 output bytes/, GuestCrashedError],
    ['meta-past-end', /meta length 1000000/, GuestCrashedError],
    ['meta-not-json', /not JSON/, GuestCrashedError],
    ['meta-bad-status', /invalid result meta/, GuestCrashedError],
    ['meta-bad-headers', /invalid result meta/, GuestCrashedError],
    ['bad-event', /event 99/, GuestCrashedError],
    ['bad-status-code', /status 3735928559/, GuestCrashedError],
    ['partial-then-exit', /exited with code 0/, GuestCrashedError],
    ['silent', /timeout/, GuestTimeoutError],
  ];

  for (const [scenario, message, type] of lies) {
    it(`${scenario}: refused with a typed error, VM discarded`, async () => {
      // Short only where the timeout is the point: elsewhere a loaded machine must not turn a lie
      // the transport should catch into a timeout.
      const vm = await hostile(scenario, scenario === 'silent' ? 500 : 10_000);
      await vm.load(HELLO);
      const err = await vm.invoke({}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect((err as Error).message).toMatch(message);
      expect(vm.closed).toBe(true);
    });
  }

  it('leaves the host serving real guests afterwards', async () => {
    const vm = await MicroVM.boot({ backend: 'process' });
    try {
      await vm.load(HELLO);
      expect((await vm.invoke({})).response.status).toBe(200);
    } finally {
      vm.close();
    }
  });
});
