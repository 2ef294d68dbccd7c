// One trace id and one invocation id through every process that handles an invocation, on real
// platforms started as a user starts them: `fn up` (one process, its VMM hosts forked), and `fn up
// --role` gateway, scheduler and worker over a real nats-server. A request with a W3C traceparent →
// the function sees the same trace id in ctx, the response carries it, every process's log lines
// for that invocation carry both ids, and the spans sent to a real OTLP receiver share the trace
// and form one parent chain: caller → gateway → scheduler → worker → vmm-host → vm → the function.
// A collector that hangs neither fails nor holds up invocations.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNatsServer, type TestNatsServer } from '../../../scheduler/src/test-support/nats-server.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../../telemetry/src/test-support/otlp-receiver.js';
import { describeEachBackend } from '../../../vmm/src/test-support/backends.js';
import { scaledTimeout } from '../../../vmm/src/test-support/time-scale.js';
import { ApiClient } from '../api-client.js';
import { FnUpProcesses, type FnUpProcess } from '../test-support/fn-up-processes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const processes = new FnUpProcesses();
const receivers: OtlpReceiver[] = [];
let nats: TestNatsServer | undefined;
const savedLevel = process.env.FN_LOG_LEVEL;

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'cli'], { cwd: root });
  // Debug: the per-invocation lines of the scheduler, the worker and the VMM hosts (off by default).
  process.env.FN_LOG_LEVEL = 'debug';
});
afterAll(async () => {
  if (savedLevel === undefined) delete process.env.FN_LOG_LEVEL;
  else process.env.FN_LOG_LEVEL = savedLevel;
  await processes.stopAll();
  await Promise.all([nats?.stop(), ...receivers.map((r) => r.close())]);
});

const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

const TRACED = `export default { fetch(request, env, ctx) {
  console.log('handling', ctx.traceId);
  return Response.json({ invocationId: ctx.invocationId, traceparent: ctx.traceparent, traceId: ctx.traceId });
} };`;

type LogLine = Record<string, unknown>;

/** The JSON log lines in a process's output (the rest is fn up's own text). */
function jsonLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });
}

async function until<T>(find: () => T | undefined | false, what: string, boundMs = scaledTimeout(30_000)): Promise<T> {
  const start = Date.now();
  for (;;) {
    const found = find();
    if (found) return found;
    if (Date.now() - start > boundMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function gatewayOf(p: FnUpProcess): { url: string; key: string } {
  return {
    url: /fn is up at (http:\/\/\S+)/.exec(p.output())![1]!,
    key: /admin API key \(shown once, keep it\): (\S+)/.exec(p.output())![1]!,
  };
}

/** Deploys TRACED and invokes it once with TRACEPARENT; what the function and the caller saw. */
async function invokeTraced(url: string, key: string) {
  const api = new ApiClient({ baseUrl: url, apiKey: key, tenant: 'default' });
  await api.deploy({ name: 'traced', bundle: TRACED, config: { memoryMiB: 64, timeoutMs: 10_000 } });
  const res = await fetch(`${url}/fn/default/traced`, { headers: { authorization: `Bearer ${key}`, traceparent: TRACEPARENT } });
  expect(res.status).toBe(200);
  const seen = (await res.json()) as { invocationId: string; traceparent: string; traceId: string };
  return { seen, invocationId: res.headers.get('x-fn-invocation-id')!, responseTraceparent: res.headers.get('traceparent')! };
}

/** The lines of one invocation, and which process wrote each kind. */
function linesOf(lines: LogLine[], invocationId: string): LogLine[] {
  return lines.filter((l) => l.invocationId === invocationId);
}

/** The spans of one trace, once all five hops have arrived, by name. */
async function chainOf(receiver: OtlpReceiver, traceId: string): Promise<Record<string, ReceivedSpan>> {
  const names = ['gateway', 'scheduler', 'worker', 'vmm-host', 'vm'];
  const spans = await until(() => {
    const mine = receiver.spans.filter((s) => s.traceId === traceId);
    return names.every((n) => mine.some((s) => s.name === n)) && mine;
  }, `the five spans of trace ${traceId} at the OTLP receiver`);
  return Object.fromEntries(spans.filter((s) => s.attributes['fn.invocation_id'] !== undefined || s.name === 'gateway').map((s) => [s.name, s]));
}

/** gateway → scheduler → worker → vmm-host → vm, under the caller's span, nested in time. */
function expectParentChain(chain: Record<string, ReceivedSpan>, invocationId: string, functionParent: string): void {
  expect(chain.gateway!.parentSpanId).toBe(CALLER_SPAN);
  expect(chain.scheduler!.parentSpanId).toBe(chain.gateway!.spanId);
  expect(chain.worker!.parentSpanId).toBe(chain.scheduler!.spanId);
  expect(chain['vmm-host']!.parentSpanId).toBe(chain.worker!.spanId);
  expect(chain.vm!.parentSpanId).toBe(chain['vmm-host']!.spanId);
  // The function's ctx.traceparent names the VM's span as its parent.
  expect(functionParent).toBe(chain.vm!.spanId);
  for (const name of ['scheduler', 'worker', 'vmm-host', 'vm']) expect(chain[name]!.attributes['fn.invocation_id']).toBe(invocationId);
  expect(chain.gateway!.attributes).toMatchObject({ 'fn.invocation_id': invocationId, 'http.response.status_code': '200' });
  // Each span lies within its parent's time.
  const order = ['gateway', 'scheduler', 'worker', 'vmm-host', 'vm'];
  for (let i = 1; i < order.length; i++) {
    const [outer, inner] = [chain[order[i - 1]!]!, chain[order[i]!]!];
    expect(inner.startNs >= outer.startNs && inner.endNs <= outer.endNs, `${order[i]} inside ${order[i - 1]}`).toBe(true);
  }
}

describeEachBackend(
  'traces and logs through every process',
  (backend) => {
    it('fn up: the function sees the caller’s trace, the response carries it, gateway, scheduler, worker and VMM host lines carry both ids, and the spans form one chain', {
      timeout: scaledTimeout(180_000),
    }, async () => {
      const receiver = await startOtlpReceiver();
      receivers.push(receiver);
      const data = mkdtempSync(join(tmpdir(), 'fn-traces-'));
      // VMs in VMM host processes, as on KVM (the ptrace stand-in keeps them in-process by default):
      // the trace crosses the host's IPC channel, and the host's lines come from a process of its own.
      process.env.FN_VMM_HOSTS = 'processes';
      const fn = await processes.start(['--port', '0', '--data', data, '--backend', backend, '--otlp-endpoint', receiver.url], /try it:/).finally(() => {
        delete process.env.FN_VMM_HOSTS;
      });
      const { url, key } = gatewayOf(fn);
      const { seen, invocationId, responseTraceparent } = await invokeTraced(url, key);

      expect(seen.invocationId).toBe(invocationId);
      expect(seen.traceId).toBe(CALLER_TRACE);
      expect(seen.traceparent).toMatch(new RegExp(`^00-${CALLER_TRACE}-[0-9a-f]{16}-01$`));
      expect(responseTraceparent).toMatch(new RegExp(`^00-${CALLER_TRACE}-[0-9a-f]{16}-01$`));
      expect(responseTraceparent).not.toContain(CALLER_SPAN);

      // Lines are written asynchronously (off the response's path), by two processes: wait for all four.
      const lines = await until(() => {
        const mine = linesOf(jsonLines(fn.output()), invocationId);
        const has = (msg: string, process?: string) => mine.some((l) => l.msg === msg && l.process === process);
        return has('request') && has('invocation scheduled') && has('invocation done') && has('invocation done', 'vmm-host') && mine;
      }, 'the gateway’s, scheduler’s, worker’s and VMM host’s lines for the invocation');
      for (const line of lines) expect(line.traceId).toBe(CALLER_TRACE);
      expect(lines.find((l) => l.msg === 'request')).toMatchObject({ path: '/fn/default/traced', status: 200 });
      expect(lines.find((l) => l.msg === 'invocation scheduled')).toBeDefined();
      expect(lines.find((l) => l.msg === 'invocation done' && l.process === undefined)).toMatchObject({ function: 'traced', status: 200 });
      expect(lines.find((l) => l.process === 'vmm-host')).toMatchObject({ msg: 'invocation done', pid: expect.any(Number) });
      // The host is its own process.
      expect(lines.find((l) => l.process === 'vmm-host')!.pid).not.toBe(fn.child.pid);

      const chain = await chainOf(receiver, CALLER_TRACE);
      expectParentChain(chain, invocationId, seen.traceparent.split('-')[2]!);
      expect(new Set(Object.values(chain).map((s) => s.service))).toEqual(new Set(['fn']));
      expect(responseTraceparent.split('-')[2]).toBe(chain.gateway!.spanId);

      // A request without a traceparent, or with a malformed one, starts a trace of its own.
      const variants: Record<string, string>[] = [{}, { traceparent: 'garbage' }];
      for (const headers of variants) {
        const res = await fetch(`${url}/fn/default/traced`, { headers: { authorization: `Bearer ${key}`, ...headers } });
        const body = (await res.json()) as { traceId: string };
        expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(body.traceId).not.toBe(CALLER_TRACE);
        expect(res.headers.get('traceparent')!.split('-')[1]).toBe(body.traceId);
      }
    });

    it('fn up with a collector that never answers: invocations still answer, every one, and the export failure is logged once', {
      timeout: scaledTimeout(180_000),
    }, async () => {
      const hanging = await startOtlpReceiver({ blackHole: true });
      receivers.push(hanging);
      const data = mkdtempSync(join(tmpdir(), 'fn-traces-dead-'));
      const fn = await processes.start(['--port', '0', '--data', data, '--backend', backend, '--otlp-endpoint', hanging.url], /try it:/);
      const { url } = gatewayOf(fn);
      // Spans are sent every second and each send waits up to 5 s on this collector: well within
      // these 7 s of calls (the exporter's clock, not scaled), it is stuck on it, and invocations
      // must not notice.
      const deadline = Date.now() + 7_000;
      let answered = 0;
      while (Date.now() < deadline) {
        const res = await fetch(`${url}/fn/default/hello`);
        expect(res.status).toBe(200);
        await res.text();
        answered++;
      }
      expect(answered).toBeGreaterThan(10);
      expect(hanging.requests).toBeGreaterThanOrEqual(1);
      await until(() => jsonLines(fn.output()).find((l) => l.msg === 'trace export failed'), 'the warning that export failed');
      expect(jsonLines(fn.output()).filter((l) => l.msg === 'trace export failed')).toHaveLength(1);
    });
  },
  ['ptrace', 'kvm'],
);

describeEachBackend(
  'traces and logs through fn up --role processes over a real NATS',
  (backend) => {
    it('gateway, scheduler and worker (with its VMM host) each log the invocation with its id and trace id, and each exports its spans', {
      timeout: scaledTimeout(240_000),
    }, async () => {
      nats = await startNatsServer();
      const receiver = await startOtlpReceiver();
      receivers.push(receiver);
      const common = ['--nats', nats.url, '--otlp-endpoint', receiver.url];
      const scheduler = await processes.start(['--role', 'scheduler', ...common], /fn scheduler is up/);
      const worker = await processes.start(
        ['--role', 'worker', ...common, '--data', mkdtempSync(join(tmpdir(), 'fn-traces-w-')), '--backend', backend, '--worker-id', 'w1'],
        /fn worker w1 is up/,
      );
      const gateway = await processes.start(['--role', 'gateway', ...common, '--port', '0', '--data', mkdtempSync(join(tmpdir(), 'fn-traces-g-'))], /try it:/);
      const { url, key } = gatewayOf(gateway);
      const { seen, invocationId, responseTraceparent } = await invokeTraced(url, key);
      expect(seen).toMatchObject({ invocationId, traceId: CALLER_TRACE });
      expect(responseTraceparent.split('-')[1]).toBe(CALLER_TRACE);

      const linesIn = (p: FnUpProcess) => linesOf(jsonLines(p.output()), invocationId);
      await until(
        () => linesIn(worker).length === 2 && linesIn(gateway).length === 1 && linesIn(scheduler).length === 1,
        'each role’s lines for the invocation',
      );
      const roles = { gateway: linesIn(gateway), scheduler: linesIn(scheduler), worker: linesIn(worker) };
      for (const [role, lines] of Object.entries(roles)) {
        expect(lines.length, `${role} lines for ${invocationId}`).toBeGreaterThan(0);
        for (const line of lines) expect(line.traceId, `${role}: ${JSON.stringify(line)}`).toBe(CALLER_TRACE);
      }
      expect(roles.gateway.map((l) => l.msg)).toEqual(['request']);
      expect(roles.scheduler.map((l) => l.msg)).toEqual(['invocation scheduled']);
      expect(roles.worker.map((l) => `${l.process ?? 'worker'}: ${l.msg}`).sort()).toEqual(['vmm-host: invocation done', 'worker: invocation done']);
      // On ptrace the worker holds its VMs itself (no VMM host process): its host lines say so.
      expect(roles.worker.find((l) => l.process === 'vmm-host')).toMatchObject({ host: 'in-process' });

      const chain = await chainOf(receiver, CALLER_TRACE);
      expectParentChain(chain, invocationId, seen.traceparent.split('-')[2]!);
      // Each role sent its own spans; the worker sends its VMM host's and VM's (the host has no network).
      expect(Object.fromEntries(Object.entries(chain).map(([name, s]) => [name, s.service]))).toEqual({
        gateway: 'fn-gateway',
        scheduler: 'fn-scheduler',
        worker: 'fn-worker',
        'vmm-host': 'fn-worker',
        vm: 'fn-worker',
      });
    });
  },
  ['ptrace'],
);
