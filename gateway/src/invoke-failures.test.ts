// How invocations fail: payload limit, overload, timeout, crash, unavailability. Nothing hangs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './test-support/harness.js';

const MiB = 1024 * 1024;
let h: Harness;
beforeEach(async () => {
  h = createHarness();
  await h.deploy(h.acmeKey, 'api', { timeoutMs: 1000 });
});
afterEach(() => h.close());

const named = (name: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(`${name} happened`), { name }, fields);

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

describe('invoker failures', () => {
  it('overloaded → 429 with Retry-After (rounded up to whole seconds)', async () => {
    h.invoker.behaviour = async () => {
      throw named('OverloadedError', { retryAfterSeconds: 2.2, scope: 'function' });
    };
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(await errorOf(res)).toMatchObject({ type: 'overloaded', retryAfterSeconds: 3, invocationId: res.headers.get('x-fn-invocation-id') });
    expect(await lastLog()).toMatchObject({ status: 'rejected' });
  });

  it('a VM timeout → 504', async () => {
    h.invoker.behaviour = async () => {
      throw named('GuestTimeoutError', { timeoutMs: 1000 });
    };
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

  it('a crashed VM → 500 JSON error', async () => {
    h.invoker.behaviour = async () => {
      throw named('GuestCrashedError', { kind: 'triple-fault' });
    };
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await errorOf(res)).toMatchObject({ type: 'function_crashed' });
    expect(await lastLog()).toMatchObject({ status: 'crashed' });
  });

  it('an out-of-memory VM → 500 JSON error that says so', async () => {
    h.invoker.behaviour = async () => {
      throw named('GuestOutOfMemoryError', { memoryMiB: 128 });
    };
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(500);
    expect((await errorOf(res)).message).toContain('out of memory');
  });

  it('unavailable → 503, with Retry-After when the invoker gives one', async () => {
    h.invoker.behaviour = async () => {
      throw named('UnavailableError', { retryAfterSeconds: 5 });
    };
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });

  it('the scheduler\'s and worker\'s failures map by name: no worker → 503, worker timeout → 504', async () => {
    const statusFor = async (name: string) => {
      h.invoker.behaviour = async () => {
        throw named(name);
      };
      return (await h.call('GET', '/fn/acme/api', { key: h.acmeKey })).status;
    };
    expect(await statusFor('NoWorkersError')).toBe(503);
    expect(await statusFor('WorkerUnavailableError')).toBe(503);
    expect(await statusFor('VmmHostCrashedError')).toBe(503);
    expect(await statusFor('WorkerTimeoutError')).toBe(504);
  });

  it('an unexpected invoker error → 500 internal, logged, with the invocation id', async () => {
    h.invoker.behaviour = async () => {
      throw new RangeError('bug in the scheduler');
    };
    const res = await h.call('GET', '/fn/acme/api', { key: h.acmeKey });
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error).toMatchObject({ type: 'internal', invocationId: res.headers.get('x-fn-invocation-id') });
    expect(error.message).not.toContain('scheduler');
    expect(h.logLines).toContainEqual(expect.objectContaining({ level: 'error', error: 'RangeError', invocationId: error.invocationId }));
  });
});
