/** Small function modules used by the tests, as the ES module text esbuild would produce. */

export const HELLO = `export default { fetch() { return new Response('Hello from fn!\\n'); } };`;

export const THROWS_IN_HANDLER = `
export default {
  fetch() {
    function inner() { throw new Error('kaboom'); }
    inner();
  },
};`;

export const SYNTAX_ERROR = `export default { fetch() { return new Response('x' }; };`;

export const THROWS_AT_INIT = `
function initialise() { throw new TypeError('boom at init'); }
initialise();
export default { fetch() { return new Response('never'); } };`;

export const INFINITE_LOOP = `export default { fetch() { while (true) {} } };`;

export const MEMORY_BOMB = `
export default {
  fetch() {
    const hoard = [];
    for (;;) hoard.push(new Array(1024 * 1024).fill(hoard.length));
  },
};`;

/** Checksums the request body (FNV-1a) and answers with every byte XOR 0x5a. */
export const BYTES_TRANSFORM = `
export default {
  async fetch(request) {
    const input = new Uint8Array(await request.arrayBuffer());
    let h = 0x811c9dc5;
    for (let i = 0; i < input.length; i++) { h ^= input[i]; h = Math.imul(h, 0x01000193) >>> 0; }
    const out = new Uint8Array(input.length);
    for (let i = 0; i < input.length; i++) out[i] = input[i] ^ 0x5a;
    return new Response(out, { headers: { 'x-fnv1a': String(h), 'content-type': 'application/octet-stream' } });
  },
};`;

export const LOGS_AND_ENV = `
export default {
  fetch(request, env, ctx) {
    console.log('hello', { a: 1 }, [1, 2]);
    console.error('bad thing', 42);
    return Response.json({ greeting: env.GREETING, frozen: Object.isFrozen(env), id: ctx.invocationId });
  },
};`;

export const LAMBDA_HANDLER = `
export async function handler(event, context) {
  return {
    statusCode: 201,
    headers: { 'content-type': 'application/json', 'x-lambda': 'yes' },
    body: JSON.stringify({ path: event.rawPath, q: event.queryStringParameters, method: event.requestContext.http.method, body: event.body, fn: context.functionName }),
  };
}`;

export const TIMER = `
export default {
  async fetch() {
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    return Response.json({ waitedMs: Date.now() - started });
  },
};`;

export const NEVER_SETTLES = `export default { fetch() { return new Promise(() => {}); } };`;

export const RANDOMNESS = `
export default {
  fetch() {
    return Response.json({ uuid: crypto.randomUUID(), random: Math.random(), now: Date.now() });
  },
};`;
