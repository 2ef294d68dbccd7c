// The A/B comparison from given figures: noise from per-round spread, verdicts against it.
import { describe, expect, it } from 'vitest';
import { compare, compareTable, noiseOf } from './compare.js';

describe('compare against a baseline', () => {
  it('takes the noise of a figure from the spread of its rounds', () => {
    const noise = noiseOf([{ fn_cold_ms_p50: 90 }, { fn_cold_ms_p50: 100 }, { fn_cold_ms_p50: 110 }]);
    expect(noise.fn_cold_ms_p50).toBeCloseTo(0.1);
    expect(noiseOf([{ fn_cold_ms_p50: 90 }]).fn_cold_ms_p50).toBeUndefined(); // one round: no band
  });

  it('calls a change outside the band better or worse (throughput the other way round), inside it noise', () => {
    const baseline = {
      fn_cold_ms_p50: 100,
      fn_warm_ms_p50: 2,
      crun_ms_p50: 300,
      fn_rps: 1000,
      noise: { fn_cold_ms_p50: 0.05, fn_warm_ms_p50: 0.1, fn_rps: 0.02 },
    };
    const now = { fn_cold_ms_p50: 80, fn_warm_ms_p50: 2.1, crun_ms_p50: 310, fn_rps: 900, noise: { fn_cold_ms_p50: 0.08 } };
    const byKey = Object.fromEntries(compare(baseline, now).map((c) => [c.key, c]));
    expect(byKey.fn_cold_ms_p50!.verdict).toBe('better');
    expect(byKey.fn_cold_ms_p50!.noise).toBe(0.08);
    expect(byKey.fn_warm_ms_p50!.verdict).toBe('within noise');
    expect(byKey.fn_rps!.verdict).toBe('worse');
    expect(byKey.crun_ms_p50!.verdict).toBe('no noise band (one round)');
    expect(byKey.runsc_ms_p50!.verdict).toBe('not measured');
    expect(compareTable(compare(baseline, now))).toContain('| fn_cold_ms_p50 | 100 | 80 | -20.0% | ±8.0% | better |');
  });
});
