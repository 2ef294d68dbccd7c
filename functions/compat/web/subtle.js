// crypto.subtle in the guest: digests and HMACs of the request body, and the errors it promises.
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const HASHES = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];

export default {
  async fetch(request) {
    const data = new Uint8Array(await request.arrayBuffer());
    const secret = new TextEncoder().encode(request.headers.get('x-secret'));
    const digests = {};
    const hmacs = {};
    for (const hash of HASHES) {
      digests[hash] = hex(await crypto.subtle.digest(hash, data));
      const key = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash }, true, ['sign', 'verify']);
      const sig = await crypto.subtle.sign('HMAC', key, data);
      hmacs[hash] = {
        sig: hex(sig),
        verifies: await crypto.subtle.verify('HMAC', key, sig, data),
        tampered: await crypto.subtle.verify(
          'HMAC',
          key,
          new Uint8Array(sig).map((b, i) => (i === 0 ? b ^ 1 : b)),
          data,
        ),
        exported: hex(await crypto.subtle.exportKey('raw', key)),
      };
    }
    const errors = {};
    const attempt = async (name, fn) => {
      try {
        await fn();
        errors[name] = 'no error';
      } catch (e) {
        errors[name] = e.name;
      }
    };
    await attempt('md5', () => crypto.subtle.digest('MD5', data));
    await attempt('aes', () => crypto.subtle.encrypt({ name: 'AES-GCM' }, null, data));
    await attempt('signOnlyKeyVerify', async () => {
      const k = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return crypto.subtle.verify('HMAC', k, new Uint8Array(32), data);
    });
    await attempt('notExtractable', async () => {
      const k = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return crypto.subtle.exportKey('raw', k);
    });
    const jwkKey = await crypto.subtle.importKey('jwk', { kty: 'oct', k: 'c2VjcmV0' }, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new Response(
      JSON.stringify({
        digests,
        hmacs,
        errors,
        jwkSig: hex(await crypto.subtle.sign('HMAC', jwkKey, data)),
        keyTag: Object.prototype.toString.call(jwkKey),
        algorithm: jwkKey.algorithm,
      }),
    );
  },
};
