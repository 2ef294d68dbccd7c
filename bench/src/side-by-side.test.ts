// The side-by-side figures and their renderings, from given samples (no timing measured here).
import { describe, expect, it } from 'vitest';
import { cdfSvg } from './cdf-svg.js';
import { figures, markdownTable, targets, type SystemResult } from './side-by-side.js';

const systems: SystemResult[] = [
  { key: 'inprocess', label: 'in-process', isolation: 'none', kind: 'warm', hello: [1, 1, 2, 2], echo: [1] },
  { key: 'fn_warm', label: 'fn warm', isolation: 'VM', kind: 'warm', hello: [2, 2, 4, 4], echo: [3] },
  { key: 'fn_cold', label: 'fn cold', isolation: 'VM', kind: 'start', hello: [10, 10, 20], echo: null },
  { key: 'fn_deploy_to_first', label: 'deploy', isolation: 'VM', kind: 'start', hello: [500, 700], echo: null },
  { key: 'crun', label: 'crun', isolation: 'container', kind: 'start', hello: [100, 100, 200], echo: [90] },
  { key: 'runsc', label: 'runsc', isolation: 'gVisor', kind: 'start', hello: null, echo: null, reason: 'runsc: not installed | try apt-get install runsc' },
];

describe('side-by-side figures', () => {
  it('reports each system and the ratios to fn from medians; a peer that could not run is null with its reason', () => {
    const f = figures(systems, { backend: 'kvm' });
    expect(f.fn_warm_ms_p50).toBe(2);
    expect(f.inprocess_ms_p50).toBe(1);
    expect(f.warm_over_inprocess).toBe(2);
    expect(f.cold_over_crun).toBe(0.1);
    expect(f.crun_ms_max).toBe(200);
    expect(f.fn_deploy_to_first_ms).toBe(500);
    expect(f.runsc_ms_p50).toBeNull();
    expect(f.cold_over_runsc).toBeNull();
    expect(f.runsc_error).toMatch(/not installed/);
    expect(f.backend).toBe('kvm');
    expect(targets(f)['fn cold ≤ 1/5 of crun']).toMatch(/^met/);
    expect(targets(f)['fn cold ≤ 1/20 of gVisor']).toBe('not measured');
    expect(targets(f)['fn warm ≤ 3× in-process']).toMatch(/^met/);
  });

  it('renders a markdown row per system, ratios against fn warm or fn cold', () => {
    const table = markdownTable(systems).split('\n');
    expect(table).toHaveLength(2 + systems.length);
    expect(table.find((r) => r.startsWith('| crun '))).toContain('10× fn cold');
    expect(table.find((r) => r.startsWith('| in-process '))).toContain('0.50× fn warm');
    const runsc = table.find((r) => r.startsWith('| runsc '))!;
    expect(runsc).toContain('null: runsc: not installed / try'); // a | in the reason cannot break the table
    expect(runsc.split('|')).toHaveLength(table[0]!.split('|').length);
  });

  it('draws one CDF line per system with samples, on a log axis spanning them', () => {
    const svg = cdfSvg(
      't',
      systems.filter((s) => s.hello).map((s) => ({ label: s.label, samples: s.hello! })),
    );
    expect(svg.match(/<path /g)).toHaveLength(5);
    expect(svg).toContain('1 ms');
    expect(svg).toContain('1 s');
    expect(svg).toContain('crun (n=3)');
    const big = cdfSvg('t', [{ label: 'many', samples: Array.from({ length: 5000 }, (_, i) => 1 + i / 100) }]);
    const points = big.match(/ L/g)!.length;
    expect(points).toBeLessThanOrEqual(1002); // thinned to ~500 steps
    expect(big).toMatch(/L[\d.]+,40\.0"/); // and still reaches 1 at the top
  });
});
