// What every fn k6 script shares: where fn is, how to deploy and invoke through its API, and the
// metric that tags each answer cold or warm from the platform's own x-fn-cold-start header.
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';

export const FN_URL = (__ENV.FN_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const KEY = __ENV.FN_API_KEY || '';
const AUTH = KEY ? { Authorization: `Bearer ${KEY}` } : {};

/** Client-side latency of each invocation, tagged start=cold|warm (and fn=<name>). */
export const latency = new Trend('fn_latency', true);
/** Deploy (upload, bundle snapshot) then the first answer of that new version. */
export const deployToFirst = new Trend('fn_deploy_to_first', true);
export const coldStarts = new Counter('fn_cold_starts');
export const warmStarts = new Counter('fn_warm_starts');

// The same handler logic as the peers of `npm run bench`: hello, and a JSON echo.
export const HELLO = "export default { fetch() { return new Response('Hello from fn!\\n'); } };";
export const ECHO = 'export default { async fetch(req) { return Response.json({ echo: await req.json() }); } };';
// Counts its invocations: with a fresh state per invocation it answers 1 every time.
export const COUNTER = 'let n = 0; export default { fetch() { n += 1; return new Response(String(n)); } };';

/**
 * The tenant to work in: the key's own tenant, or with an admin key FN_TENANT (default k6),
 * created if it does not exist yet.
 */
export function tenant() {
  const who = http.get(`${FN_URL}/v1/whoami`, { headers: AUTH });
  if (who.status !== 200)
    throw new Error(`GET ${FN_URL}/v1/whoami answered ${who.status}: ${who.body} — set FN_URL and FN_API_KEY to a running fn and a key of it`);
  const own = who.json().tenant;
  if (own) return own;
  const name = __ENV.FN_TENANT || 'k6';
  const made = http.post(`${FN_URL}/v1/tenants`, JSON.stringify({ name }), { headers: { ...AUTH, 'Content-Type': 'application/json' } });
  if (made.status !== 201 && made.status !== 200 && made.status !== 409) throw new Error(`creating tenant ${name} answered ${made.status}: ${made.body}`);
  return name;
}

/** Deploys `bundle` as function `name` (a new version when it exists); returns the deploy's response. */
export function deploy(t, name, bundle, config = {}) {
  const body = JSON.stringify({ name, bundle, config: { memoryMiB: 32, timeoutMs: 5000, maxConcurrency: 64, ...config } });
  const res = http.post(`${FN_URL}/v1/functions?tenant=${encodeURIComponent(t)}`, body, {
    headers: { ...AUTH, 'Content-Type': 'application/json' },
    tags: { op: 'deploy' },
  });
  if (res.status !== 201) throw new Error(`deploying ${name} answered ${res.status}: ${res.body}`);
  return res;
}

/**
 * Invokes `name` (GET, or POST with a JSON body), records its latency tagged cold or warm, and
 * checks the answer. Returns { res, cold }.
 */
export function invoke(t, name, { json, expect } = {}) {
  const url = `${FN_URL}/fn/${encodeURIComponent(t)}/${encodeURIComponent(name)}`;
  const params = { headers: { ...AUTH, ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}) }, tags: { op: 'invoke', fn: name } };
  const res = json !== undefined ? http.post(url, JSON.stringify(json), params) : http.get(url, params);
  const header = res.headers['X-Fn-Cold-Start'];
  const cold = header === 'true';
  const start = cold ? 'cold' : 'warm';
  latency.add(res.timings.duration, { start, fn: name });
  (cold ? coldStarts : warmStarts).add(1, { fn: name });
  check(
    res,
    {
      'status is 200': (r) => r.status === 200,
      'x-fn-cold-start is set': () => header === 'true' || header === 'false',
      'body is right': (r) => (expect === undefined ? true : typeof expect === 'function' ? expect(r) : r.body === expect),
    },
    { start },
  );
  return { res, cold };
}

export const HELLO_BODY = 'Hello from fn!\n';
/** The echo's answer holds what was sent. */
export const echoes = (sent) => (r) => {
  try {
    return JSON.stringify(r.json().echo) === JSON.stringify(sent);
  } catch {
    return false;
  }
};
