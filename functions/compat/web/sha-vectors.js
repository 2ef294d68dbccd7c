// Known-answer vectors through crypto.subtle in the guest: the request lists the cases (a digest of
// a message, or an HMAC of data under a key, bytes in hex; `repeat` repeats the message), the
// response answers each with its hex result.
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const bytes = (h) => new Uint8Array(h.match(/../g) || []).map((_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));

export default {
  async fetch(request) {
    const cases = await request.json();
    const out = [];
    for (const c of cases) {
      let data = new TextEncoder().encode(c.message);
      if (c.repeat) data = new Uint8Array(c.repeat * data.length).map((_, i) => data[i % data.length]);
      if (c.dataHex !== undefined) data = bytes(c.dataHex);
      if (c.keyHex === undefined) out.push(hex(await crypto.subtle.digest(c.hash, data)));
      else {
        const key = await crypto.subtle.importKey('raw', bytes(c.keyHex), { name: 'HMAC', hash: c.hash }, false, ['sign', 'verify']);
        const sig = await crypto.subtle.sign('HMAC', key, data);
        out.push(`${hex(sig)}${(await crypto.subtle.verify('HMAC', key, sig, data)) ? '' : ' (does not verify)'}`);
      }
    }
    return Response.json(out);
  },
};
