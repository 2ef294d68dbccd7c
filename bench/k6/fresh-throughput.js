// Throughput with a fresh state per invocation: many VUs hammer one function that counts its
// invocations; every answer must still be 1 (no invocation sees another one's state).
//   k6 run -e FN_URL=http://127.0.0.1:8080 -e FN_API_KEY=fn_... bench/k6/fresh-throughput.js
import { COUNTER, deploy, invoke, tenant } from './lib/fn.js';

export const options = {
  scenarios: {
    fresh: { executor: 'constant-vus', vus: Number(__ENV.VUS || 8), duration: __ENV.DURATION || '30s' },
  },
  thresholds: {
    checks: ['rate>0.99'],
    http_req_failed: ['rate<0.01'],
    http_reqs: ['rate>100'],
  },
};

export function setup() {
  const t = tenant();
  deploy(t, 'k6-counter', COUNTER);
  invoke(t, 'k6-counter', { expect: '1' });
  return { tenant: t };
}

export default function (data) {
  invoke(data.tenant, 'k6-counter', { expect: '1' });
}
