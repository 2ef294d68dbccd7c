// Cold start: every iteration deploys a new version of one function (its own snapshot, no warm VM
// of it anywhere) and invokes it once: the restore of a new version, and deploy → first answer.
//   k6 run -e FN_URL=http://127.0.0.1:8080 -e FN_API_KEY=fn_... bench/k6/cold.js
import { check } from 'k6';
import { deploy, deployToFirst, HELLO, HELLO_BODY, invoke, tenant } from './lib/fn.js';

export const options = {
  scenarios: {
    cold: { executor: 'per-vu-iterations', vus: 1, iterations: Number(__ENV.ITERATIONS || 30), maxDuration: '10m' },
  },
  thresholds: {
    checks: ['rate>0.99'],
    'fn_latency{start:cold}': ['p(50)<100', 'p(99)<500'],
    fn_deploy_to_first: ['p(50)<1000'],
    fn_cold_starts: ['count>0'],
  },
};

export function setup() {
  return { tenant: tenant() };
}

export default function (data) {
  // A comment makes each bundle, hence each version's snapshot, new.
  const bundle = `${HELLO}\n// k6 cold ${__VU}-${__ITER}-${Date.now()}\n`;
  const deployed = deploy(data.tenant, 'k6-cold', bundle);
  const { res, cold } = invoke(data.tenant, 'k6-cold', { expect: HELLO_BODY });
  check(res, { 'a new version starts cold': () => cold });
  deployToFirst.add(deployed.timings.duration + res.timings.duration);
}
