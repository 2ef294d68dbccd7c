// Mixed load at a constant arrival rate over many functions (hello and echo), some cold: every
// function's first answer, the VMs added when concurrency grows, and a share of iterations
// (COLD_RATIO) that deploy a new version and invoke it at once.
//   k6 run -e FN_URL=http://127.0.0.1:8080 -e FN_API_KEY=fn_... bench/k6/mixed.js
import { deploy, ECHO, echoes, HELLO, HELLO_BODY, invoke, tenant } from './lib/fn.js';

const FUNCTIONS = Number(__ENV.FUNCTIONS || 20);
const COLD_RATIO = Number(__ENV.COLD_RATIO || 0.02);

export const options = {
  scenarios: {
    mixed: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 50),
      timeUnit: '1s',
      duration: __ENV.DURATION || '60s',
      preAllocatedVUs: 20,
      maxVUs: 100,
    },
  },
  thresholds: {
    checks: ['rate>0.99'],
    'fn_latency{start:warm}': ['p(99)<250'],
    'fn_latency{start:cold}': ['p(99)<1000'],
    dropped_iterations: ['count<100'],
  },
};

const nameOf = (i) => `k6-mixed-${i}`;

export function setup() {
  const t = tenant();
  for (let i = 0; i < FUNCTIONS; i++) deploy(t, nameOf(i), i % 2 === 0 ? HELLO : ECHO);
  return { tenant: t };
}

export default function (data) {
  if (Math.random() < COLD_RATIO) {
    deploy(data.tenant, 'k6-mixed-fresh', `${HELLO}\n// k6 mixed ${__VU}-${__ITER}-${Date.now()}\n`);
    invoke(data.tenant, 'k6-mixed-fresh', { expect: HELLO_BODY });
    return;
  }
  const i = Math.floor(Math.random() * FUNCTIONS);
  if (i % 2 === 0) invoke(data.tenant, nameOf(i), { expect: HELLO_BODY });
  else {
    const sent = { vu: __VU, iter: __ITER };
    invoke(data.tenant, nameOf(i), { json: sent, expect: echoes(sent) });
  }
}
