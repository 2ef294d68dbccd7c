/**
 * The side-by-side result: one entry per system, the flat JSON figures the issue asks for, the
 * markdown table, and where they are written (bench/results/<date>-<machine>.{json,md,svg}, and
 * the latest table and chart into bench/README.md between its markers).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cdfSvg } from './cdf-svg.js';
import { percentile, round } from './stats.js';

export interface SystemResult {
  key: string;
  label: string;
  isolation: string;
  /** warm: a running instance answers; start: a new instance (process, container, VM) per request. */
  kind: 'warm' | 'start';
  /** Latencies in ms of hello (the headline) and of the JSON echo; null when it could not run. */
  hello: number[] | null;
  echo: number[] | null;
  reason?: string;
}

type Figure = number | string | boolean | null | Record<string, string | number>;

const p = (xs: number[] | null, q: number, digits = 3) => (xs && xs.length > 0 ? round(percentile(xs, q), digits) : null);
const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? round(a / b, 4) : null);

/** The flat figures: <key>_ms_p50/p90/p99/max and <key>_echo_ms_p50 per system, and the ratios. */
export function figures(systems: SystemResult[], extra: Record<string, Figure>): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  const p50 = (key: string) => p(systems.find((s) => s.key === key)?.hello ?? null, 50);
  for (const s of systems) {
    out[`${s.key}_ms_p50`] = p(s.hello, 50);
    out[`${s.key}_ms_p90`] = p(s.hello, 90);
    out[`${s.key}_ms_p99`] = p(s.hello, 99);
    out[`${s.key}_ms_max`] = p(s.hello, 100);
    out[`${s.key}_echo_ms_p50`] = p(s.echo, 50);
    out[`${s.key}_n`] = s.hello?.length ?? 0;
    if (s.reason) out[`${s.key}_error`] = s.reason;
  }
  out.fn_deploy_to_first_ms = p50('fn_deploy_to_first');
  out.cold_over_crun = ratio(p50('fn_cold'), p50('crun'));
  out.cold_over_runc = ratio(p50('fn_cold'), p50('runc'));
  out.cold_over_runsc = ratio(p50('fn_cold'), p50('runsc'));
  out.cold_over_node_process = ratio(p50('fn_cold'), p50('node_process'));
  out.warm_over_inprocess = ratio(p50('fn_warm'), p50('inprocess'));
  out.isolation = Object.fromEntries(systems.map((s) => [s.key, s.isolation]));
  return { ...out, ...extra };
}

/** fn against the targets of issue 11, same run: informs, never fails. */
export function targets(f: Record<string, Figure>): Record<string, string> {
  const met = (v: Figure, limit: number) => (typeof v === 'number' ? `${v <= limit ? 'met' : 'NOT met'} (${v})` : 'not measured');
  return {
    'fn cold ≤ 1/5 of crun': met(f.cold_over_crun ?? null, 0.2),
    'fn cold ≤ 1/20 of gVisor': met(f.cold_over_runsc ?? null, 0.05),
    'fn warm ≤ 3× in-process': met(f.warm_over_inprocess ?? null, 3),
    'deploy → first ≤ 1 s': met(f.fn_deploy_to_first_ms ?? null, 1000),
  };
}

const fmt = (v: number | null) => (v === null ? '—' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export function markdownTable(systems: SystemResult[]): string {
  const base = (kind: SystemResult['kind']) => p(systems.find((s) => s.key === (kind === 'warm' ? 'fn_warm' : 'fn_cold'))?.hello ?? null, 50);
  const rows = systems.map((s) => {
    const p50 = p(s.hello, 50);
    const vs = ratio(p50, base(s.kind));
    const vsText =
      s.key === 'fn_warm' || s.key === 'fn_cold'
        ? '1 (reference)'
        : vs === null
          ? '—'
          : `${vs >= 10 ? vs.toFixed(0) : vs.toFixed(2)}× fn ${s.kind === 'warm' ? 'warm' : 'cold'}`;
    const note = s.reason ? `null: ${s.reason.replace(/\|/g, '/').slice(0, 160)}` : '';
    return `| ${s.label} | ${s.isolation} | ${s.kind === 'warm' ? 'running instance' : 'new per request'} | ${fmt(p50)} | ${fmt(p(s.hello, 90))} | ${fmt(p(s.hello, 99))} | ${fmt(p(s.hello, 100))} | ${fmt(p(s.echo, 50))} | ${s.hello?.length ?? 0} | ${vsText} | ${note} |`;
  });
  return [
    '| system | isolation | instance | p50 ms | p90 ms | p99 ms | max ms | echo p50 ms | n | p50 vs fn | note |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---|---|',
    ...rows,
  ].join('\n');
}

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));
const START = '<!-- bench:latest:start (written by npm run bench) -->';
const END = '<!-- bench:latest:end -->';

/**
 * Writes <date>-<machine>.json/.md/.svg under bench/results and, for a full run, the README's latest
 * section; a --quick run writes <date>-<machine>-quick.* and leaves the published result alone.
 */
export function writeResults(record: Record<string, Figure>, systems: SystemResult[], header: string): { json: string; md: string; svg: string } {
  mkdirSync(RESULTS, { recursive: true });
  const stem = `${String(record.at).slice(0, 10)}-${String(record.machine).replace(/[^A-Za-z0-9_.-]/g, '_')}${record.quick ? '-quick' : ''}`;
  const files = { json: `${RESULTS}${stem}.json`, md: `${RESULTS}${stem}.md`, svg: `${RESULTS}${stem}.svg` };
  const samples = Object.fromEntries(
    systems.map((s) => [s.key, { hello: s.hello?.map((v) => round(v, 3)) ?? null, echo: s.echo?.map((v) => round(v, 3)) ?? null }]),
  );
  writeFileSync(files.json, JSON.stringify({ ...record, samples }, null, 2) + '\n');
  const table = markdownTable(systems);
  const goals = Object.entries(targets(record))
    .map(([k, v]) => `- ${k}: ${v}`)
    .join('\n');
  const md = `${header}\n\n${table}\n\nTargets (same run):\n${goals}\n`;
  writeFileSync(files.md, md);
  const title = `hello latency per request, CDF — fn backend ${String(record.backend)}, ${String(record.machine)}, ${String(record.at).slice(0, 16)}Z`;
  writeFileSync(
    files.svg,
    cdfSvg(
      title,
      systems.filter((s) => s.hello).map((s) => ({ label: s.label, samples: s.hello! })),
    ),
  );
  if (!record.quick && existsSync(README)) {
    const text = readFileSync(README, 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a >= 0 && b > a) {
      const section = `${START}\n${md}\n![latency CDF](results/${stem}.svg)\n\nFigures: [results/${stem}.json](results/${stem}.json)\n${END}`;
      writeFileSync(README, text.slice(0, a) + section + text.slice(b + END.length));
    }
  }
  return files;
}
