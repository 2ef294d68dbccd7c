// Web APIs the prelude adds, in the real guest, against Node's implementations as the reference.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeEachBackend } from '../../vmm/src/test-support/backends.js';
import { bodyText, invokeInGuest } from './test-support/guest.js';

describeEachBackend('crypto.subtle in the guest', (backend) => {
  // Lengths around the block and padding boundaries of SHA-1/256 (64) and SHA-384/512 (128), and a
  // secret longer than a block (hashed first, as HMAC says).
  it.each([0, 55, 56, 64, 111, 112, 128, 1000, 70_000])('digest and HMAC of %i bytes match Node', async (length) => {
    const data = randomBytes(length);
    const secret = length === 1000 ? 'k'.repeat(200) : 'a-secret';
    const r = JSON.parse(bodyText(await invokeInGuest(backend, 'web/subtle.js', { method: 'POST', body: data, headers: { 'x-secret': secret } })));
    for (const hash of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) {
      const node = hash.replace('-', '').toLowerCase();
      expect(r.digests[hash], hash).toBe(createHash(node).update(data).digest('hex'));
      expect(r.hmacs[hash], hash).toEqual({
        sig: createHmac(node, secret).update(data).digest('hex'),
        verifies: true,
        tampered: false,
        exported: Buffer.from(secret).toString('hex'),
      });
    }
    expect(r.jwkSig).toBe(createHmac('sha256', 'secret').update(data).digest('hex'));
    expect(r.keyTag).toBe('[object CryptoKey]');
    expect(r.algorithm).toEqual({ name: 'HMAC', hash: { name: 'SHA-256' }, length: 48 });
    expect(r.errors).toEqual({
      md5: 'NotSupportedError',
      aes: 'NotSupportedError',
      signOnlyKeyVerify: 'InvalidAccessError',
      notExtractable: 'InvalidAccessError',
    });
  });
});

describeEachBackend('Event, EventTarget, AbortController, WeakRef in the guest', (backend) => {
  it('behave as the Web platform says (WeakRef holds, FinalizationRegistry never calls back: see events.js)', async () => {
    const r = JSON.parse(bodyText(await invokeInGuest(backend, 'web/events.js')));
    expect(r).toEqual({
      log: ['ping ping true true', 'handleEvent', 'ping ping true false'],
      notCancelled: false,
      before: false,
      seen: ['listener', 'onabort'],
      aborted: true,
      reason: 'AbortError',
      thrown: 'AbortError: This operation was aborted',
      custom: 'custom reason',
      timeoutReason: 'TimeoutError',
      anyReason: 'TimeoutError',
      illegal: 'TypeError',
      deref: true,
      unregistered: [true, false],
      badTarget: 'TypeError',
      tags: ['[object Event]', '[object WeakRef]', '[object AbortSignal]'],
    });
  });
});

describeEachBackend('Blob, File, FormData and request.formData() in the guest', (backend) => {
  const expectedRest = {
    roundTrip: ['hello', 'a.txt', 'abc', 1],
    blob: [7, 'text/plain', 'héllo!', 'o!', [195, 169]],
    file: ['n.txt', 42, true, '[object File]'],
  };

  it('reads an urlencoded form', async () => {
    const body = new URLSearchParams({ a: '1', b: 'two words' }).toString();
    const r = await invokeInGuest(backend, 'web/forms.js', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(JSON.parse(bodyText(r))).toEqual({
      fields: [
        ['a', '1'],
        ['b', 'two words'],
      ],
      ...expectedRest,
    });
  });

  it("reads a multipart form as Node's own FormData encodes it, files included", async () => {
    const form = new FormData();
    form.append('title', 'Grüße');
    form.append('doc', new Blob(['line 1\r\nline 2'], { type: 'text/csv' }), 'report.csv');
    const encoded = new Response(form);
    const body = Buffer.from(await encoded.arrayBuffer());
    const r = await invokeInGuest(backend, 'web/forms.js', { method: 'POST', headers: { 'content-type': encoded.headers.get('content-type')! }, body });
    expect(JSON.parse(bodyText(r))).toEqual({
      fields: [
        ['title', 'Grüße'],
        ['doc', { file: 'report.csv', type: 'text/csv', size: 14, text: 'line 1\r\nline 2' }],
      ],
      ...expectedRest,
    });
  });
});

describeEachBackend('ReadableStream bodies in the guest', (backend) => {
  it('request.body reads through a reader; streams from a pull source iterate, cancel and error', async () => {
    const r = await invokeInGuest(backend, 'web/streams.js', { method: 'POST', body: 'the whole body' });
    expect(JSON.parse(bodyText(r))).toEqual({
      hadBody: true,
      usedBefore: false,
      chunks: ['the whole body'],
      usedAfter: true,
      secondRead: 'TypeError',
      pulled: ['chunk 1', 'chunk 2', 'chunk 3'],
      first: ['a'],
      cancelledWith: 'cancelled: undefined',
      failure: 'RangeError: broken source',
      getNoBody: null,
      locked: false,
    });
  });
});
