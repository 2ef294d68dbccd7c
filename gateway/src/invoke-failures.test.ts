// How invocations fail: payload limit, overload, timeout, crash, unavailability. Nothing hangs.
import { BadResponseError, CrashedError, InvocationTimeoutError, OutOfMemoryError, OverloadedError, UnavailableError } from '@fn/contract';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './test-support/harness.js';

const MiB = 1024 * 1024;
let h: Harness;
beforeEach(async () => {
  h = createHarness();
  await h.deploy(h.acmeKey, 'api', { timeoutMs: 1000 });
});
afterEach(() => h.close());

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { type: string; message: string; invocationId?: string; retryAfterSeconds?: number } }).error;
}

async function lastLog() {
  const page = (await (await h.call('GET', '/v1/functions/api/logs', { key: h.acmeKey })).json()) as any;
  return page.records.at(-1);
}

describe('6 MiB synchronous payload limit (413)', () => {
  it('accepts exactly 6 MiB', async () => {
    const res = await h.call('POST', '/fn/acme/api', { key: h.acmeKey, body: new Uint8Array(6 * MiB) });
    expect(res.status).toBe(200);
    expect(h.invoker.calls[0]!.request.body.byteLength).toBe(6 * MiB);
  });

  it('refuses 6 MiB + 1 byte without calling the invoker', async () => {
    const res = await h.call('POST', '/fn/acme/api', { key: h.acmeKey, body: new Uint8Array(6 * MiB + 1) });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).type).toBe('payload_too_large');
    expect(h.invoker.calls).toHaveLength(0);
  });

  it('refuses on Content-Length alone, before reading a byte (this body would never end)', async () => {
    const endless = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    const res = await h.call('POST', '/fn/acme/api', { key: h.acmeKey, body: endless, duplex: 'half', headers: { 'content-length': String(6 * MiB + 1) } });
    expect(res.status).toBe(413);
  });

  it('counts a streamed body without Content-Length and stops reading past the limit', async () => {
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024);
    // An endless body: only counting and cancelling can end this request.
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await h.call('POST', '/fn/acme/api', { key: h.acmeKey, body: endless, duplex: 'half' });
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(6 * MiB + 4 * chunk.byteLength);
    expect(h.invoker.calls).toHaveLength(0);
  });
});

// The status table, one kind at a time, with the contract's own error classes as the invoker throws
// them. That every kind really arrives here from a VM is tested through the real chain in
// platform/src/failure-kinds.test.ts.
describe('invoker failures, by kind', () => {
  const failWith = (error: Error) => {
    h.invoker.behaviour = async () => {
      throw error;
    };
  };

  it('overloaded → 429 with Retry-After (rounded up to whole seconds)', async () => {
    failWith(new OverloadedError('too many', 2.2, 'function'));
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(await errorOf(res)).toMatchObject({ type: 'overloaded', retryAfterSeconds: 3, invocationId: res.headers.get('x-fn-invocation-id') });
    expect(await lastLog()).toMatchObject({ status: 'rejected' });
  });

  it('timeout → 504', async () => {
    failWith(new InvocationTimeoutError('ran past 1000 ms'));
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(504);
    expect(await errorOf(res)).toMatchObject({ type: 'timeout' });
    expect(await lastLog()).toMatchObject({ status: 'timeout' });
  });

  it('an invoker that never answers → 504 after timeout + grace, and is told to give up', async () => {
    const small = createHarness({ limits: { invokeGraceMs: 50 } });
    try {
      await small.deploy(small.acmeKey, 'api', { timeoutMs: 20 });
      let aborted = false;
      small.invoker.behaviour = (request) =>
        new Promise((_, reject) => request.signal.addEventListener('abort', () => ((aborted = true), reject(request.signal.reason))));
      const res = await small.call('GET', '/fn/acme/api', { key: small.acmeKey });
      expect(res.status).toBe(504);
      expect(aborted).toBe(true);
    } finally {
      small.close();
    }
  });

  it("crashed → 500 JSON error naming the function's fault", async () => {
    failWith(new CrashedError('triple fault'));
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const error = await errorOf(res);
    expect(error).toMatchObject({ type: 'function_crashed' });
    expect(error.message).toMatch(/the function's fault/);
    expect(await lastLog()).toMatchObject({ status: 'crashed' });
  });

  it("out of memory → 500 that says so, naming the function's fault", async () => {
    failWith(Object.assign(new OutOfMemoryError('ran out'), { memoryMiB: 128 }));
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.type).toBe('out_of_memory');
    expect(error.message).toMatch(/ran out of its memory \(memoryMiB 128\).*the function's fault/);
  });

  it('bad response → 502 with the limit it broke', async () => {
    failWith(new BadResponseError("the function's response has headers of 17411 bytes, over the limit of 16384"));
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(502);
    expect(await errorOf(res)).toMatchObject({ type: 'bad_response', message: expect.stringMatching(/17411 bytes/) });
  });

  it('unavailable → 503, with Retry-After when the invoker gives one', async () => {
    failWith(Object.assign(new UnavailableError('no host'), { retryAfterSeconds: 5 }));
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });

  it('a subclass answers as its kind: the name does not matter, the kind does', async () => {
    class NoWorkersError extends UnavailableError {
      override name = 'NoWorkersError';
    }
    failWith(new NoWorkersError('none'));
    expect((await h.call('GET', '/fn/acme/api', { key: h.acmeKey })).status).toBe(503);
    // A look-alike without a kind is no failure of the contract: an internal error.
    failWith(Object.assign(new Error('x'), { name: 'GuestTimeoutError' }));
    expect((await h.call('GET', '/fn/acme/api', { key: h.acmeKey })).status).toBe(500);
  });

  it('an unexpected invoker error → 500 internal, logged, with the invocation id', async () => {
    failWith(new RangeError('bug in the scheduler'));
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error).toMatchObject({ type: 'internal', invocationId: res.headers.get('x-fn-invocation-id') });
    expect(error.message).not.toContain('scheduler');
    expect(h.logLines).toContainEqual(expect.objectContaining({ level: 'error', error: 'RangeError', invocationId: error.invocationId }));
  });
});

describe('request limits (too_large → 413)', () => {
  it('refuses more than 256 headers or 16 KiB of them, and a URL over 16 KiB, before invoking', async () => {
    const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`x-h${i}`, '1']));
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey, headers: many });
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatchObject({ type: 'payload_too_large', message: expect.stringMatching(/257 headers/) });
    expect((await h.call('GET', `/fn/acme/api?q=${'a'.repeat(16 * 1024)}`, { key: h.acmeKey })).status).toBe(413);
    expect(h.invoker.calls).toHaveLength(0);
  });
});
