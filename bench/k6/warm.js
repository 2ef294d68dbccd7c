// Warm start: hello and a JSON echo, one request at a time, a warm VM ready for each.
//   k6 run -e FN_URL=http://127.0.0.1:8080 -e FN_API_KEY=fn_... bench/k6/warm.js
import { deploy, ECHO, echoes, HELLO, HELLO_BODY, invoke, tenant } from './lib/fn.js';

export const options = {
  scenarios: {
    warm: { executor: 'constant-vus', vus: 1, duration: __ENV.DURATION || '30s' },
  },
  thresholds: {
    checks: ['rate>0.99'],
    'fn_latency{start:warm}': ['p(50)<20', 'p(99)<200'],
    http_req_failed: ['rate<0.01'],
  },
};

export function setup() {
  const t = tenant();
  deploy(t, 'k6-hello', HELLO);
  deploy(t, 'k6-echo', ECHO);
  // The first answer of each may be cold: take it before the measured iterations.
  invoke(t, 'k6-hello', { expect: HELLO_BODY });
  invoke(t, 'k6-echo', { json: { warmup: true }, expect: echoes({ warmup: true }) });
  return { tenant: t };
}

export default function (data) {
  invoke(data.tenant, 'k6-hello', { expect: HELLO_BODY });
  const sent = { vu: __VU, iter: __ITER, text: 'héllo' };
  invoke(data.tenant, 'k6-echo', { json: sent, expect: echoes(sent) });
}
