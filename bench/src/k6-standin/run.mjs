// Runs one k6 script with the stand-ins (start it as `node --import ./register.mjs run.mjs`):
// setup(), the default function ITERATIONS times (env K6_STANDIN_ITERATIONS, default 3) as VU 1,
// teardown(); prints one JSON line: the options, every check's passes and fails, every sample.
// Exits non-zero when the script throws. Scenarios and thresholds are for k6 itself; here they are
// only checked to name metrics that exist.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { state } from './modules/state.mjs';

const BUILTIN = new Set([
  'checks',
  'http_reqs',
  'http_req_duration',
  'http_req_failed',
  'iterations',
  'iteration_duration',
  'dropped_iterations',
  'vus',
  'data_sent',
  'data_received',
]);
const script = process.argv[2];
if (!script) throw new Error('usage: node --import ./register.mjs run.mjs <script.js>');

globalThis.__ENV = { ...process.env };
globalThis.__VU = 1;
globalThis.__ITER = 0;

const mod = await import(pathToFileURL(resolve(script)).href);
if (typeof mod.default !== 'function') throw new Error(`${script} has no default function`);
const options = mod.options ?? {};
for (const key of Object.keys(options.thresholds ?? {})) {
  const metric = key.replace(/\{.*\}$/, '');
  if (!BUILTIN.has(metric) && !state.metrics.has(metric)) throw new Error(`${script}: threshold on ${key}, but no metric ${metric} is defined`);
}
const iterations = Number(process.env.K6_STANDIN_ITERATIONS || 3);
const data = typeof mod.setup === 'function' ? mod.setup() : undefined;
for (let i = 0; i < iterations; i++) {
  globalThis.__ITER = i;
  mod.default(data);
  state.samples.push({ metric: 'iterations', type: 'counter', value: 1, tags: {} });
}
if (typeof mod.teardown === 'function') mod.teardown(data);
process.stdout.write(`${JSON.stringify({ options, checks: state.checks, samples: state.samples })}\n`);
process.exit(0);
