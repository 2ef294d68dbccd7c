/** Function modules for the snapshot and isolation tests. */

export const COUNTER = `let n = 0; export default { fetch() { n += 1; return new Response(String(n)); } };`;

/** Keeps the last request body in a global and answers with what was there before. */
export const STASH = `
let stash;
export default {
  async fetch(request) {
    const previous = stash;
    stash = await request.text();
    globalThis.leak = stash;
    return Response.json({ previous: previous === undefined ? null : previous, leak: null });
  },
};`;

/** Allocates a fresh 1 MiB of heap per invocation and keeps it reachable. */
export const FRESH_MEGABYTE = `
const kept = [];
export default {
  fetch() {
    kept.push(new Uint8Array(1024 * 1024).fill(7));
    return Response.json({ kept: kept.length });
  },
};`;
