// The gateway's series as Prometheus reads them: counted into label cells, rendered at a scrape,
// workers' JSON series merged under their own `worker` label.
import { Registry, Counter } from 'prom-client';
import { expect, it } from 'vitest';
import { parsePrometheusText, sumOf } from '../test-support/prometheus-text.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { LabelCells } from './label-cells.js';

it('finds one cell per label set, by the values alone', () => {
  const cells = new LabelCells(['tenant', 'function', 'status', 'start']);
  const a = cells.at('acme', 'api', 'ok', 'warm');
  expect(cells.at('acme', 'api', 'ok', 'warm')).toBe(a);
  expect(cells.at('acme', 'api', 'ok', 'cold')).not.toBe(a);
  expect(cells.at('acme', 'api2', 'ok', 'warm')).not.toBe(a);
  expect(a.labels).toEqual({ tenant: 'acme', function: 'api', status: 'ok', start: 'warm' });
  expect(cells.all).toHaveLength(3);
});

it('renders what was counted, and counts each invocation once across scrapes', async () => {
  const metrics = new GatewayMetrics({ queueDepth: () => 7 });
  metrics.invocation('acme', 'api', 'ok', 'cold', 0.004);
  metrics.invocation('acme', 'api', 'ok', 'warm', 0.001);
  metrics.invocation('acme', 'api', 'ok', 'warm', 0.0008);
  metrics.invocation('acme', 'api', 'overloaded', 'none', undefined);
  metrics.failure('acme', 'api', 'overloaded');
  const first = parsePrometheusText(await metrics.render());
  expect(sumOf(first, 'fn_invocations_total', { tenant: 'acme', function: 'api', status: 'ok', start: 'warm' })).toBe(2);
  expect(sumOf(first, 'fn_invocations_total', { status: 'overloaded', start: 'none' })).toBe(1);
  expect(sumOf(first, 'fn_invocation_duration_seconds_count', { start: 'warm' })).toBe(2);
  expect(sumOf(first, 'fn_invocation_duration_seconds_bucket', { start: 'warm', le: '0.001' })).toBe(2);
  expect(sumOf(first, 'fn_invocation_duration_seconds_bucket', { start: 'cold', le: '0.001' })).toBe(0);
  expect(sumOf(first, 'fn_throttled_total', { tenant: 'acme', function: 'api' })).toBe(1);
  expect(sumOf(first, 'fn_invocation_errors_total', { kind: 'overloaded' })).toBe(1);
  expect(sumOf(first, 'fn_scheduler_queue_depth')).toBe(7);

  metrics.invocation('acme', 'api', 'ok', 'warm', 0.001);
  const second = parsePrometheusText(await metrics.render());
  expect(sumOf(second, 'fn_invocations_total', { status: 'ok', start: 'warm' })).toBe(3);
  expect(sumOf(second, 'fn_invocations_total', { status: 'ok', start: 'cold' })).toBe(1);
});

it("shows each worker's series under its own worker label", async () => {
  const reportOf = async (restores: number) => {
    const registry = new Registry();
    const counter = new Counter({ name: 'fn_vm_restores_total', help: 'restores', labelNames: ['reason'], registers: [registry] });
    counter.inc({ reason: 'cold' }, restores);
    return registry.getMetricsAsJSON();
  };
  const metrics = new GatewayMetrics();
  const w1 = await reportOf(2);
  const w2 = await reportOf(5);
  metrics.setSources({
    workers: () => [
      { workerId: 'w1', metrics: w1 },
      { workerId: 'w2', metrics: w2 },
    ],
  });
  const samples = parsePrometheusText(await metrics.render());
  expect(sumOf(samples, 'fn_vm_restores_total', { worker: 'w1', reason: 'cold' })).toBe(2);
  expect(sumOf(samples, 'fn_vm_restores_total', { worker: 'w2', reason: 'cold' })).toBe(5);
});
