/**
 * One function: live version and aliases, an Invoke button, the latency histogram (cold vs warm)
 * and warm VMs over time, recent invocations with their logs, the live tail (server-sent events),
 * deploy history with rollback, and env var and secret names (the API gives no values here).
 */
import { ApiError, type Api, type ConsoleFunctionDetail, type InvocationRecord } from '../api.js';
import { latencyHistogram, poolChart } from '../charts.js';
import { h, show } from '../dom.js';
import { clockTime, dateTime, formatMs } from '../format.js';
import { tag } from './functions.js';

const REFRESH_MS = 3_000;
const POOL_WINDOW_MS = 5 * 60_000;
const KEEP_RECORDS = 200;
const TAIL_LINES = 500;

export function functionPage(root: HTMLElement, api: Api, name: string, onError: (error: unknown) => void): () => void {
  const stop = new AbortController();
  const timers: number[] = [];
  const every = (ms: number, run: () => Promise<void>) => {
    const tick = async () => {
      try {
        await run();
      } catch (error) {
        if (!stop.signal.aborted) onError(error);
        return;
      }
      if (!stop.signal.aborted) timers.push(window.setTimeout(tick, ms));
    };
    void tick();
  };

  const summary = h('div', { class: 'summary', id: 'summary' }, 'Loading…');
  const invokeResult = h('div', { class: 'invoke-result', id: 'invoke-result', 'aria-live': 'polite' });
  const histogramCard = h('div', { class: 'chart-box', id: 'latency' });
  const poolCard = h('div', { class: 'chart-box', id: 'pools' });
  const invocations = h('tbody');
  const tailState = h('span', { class: 'muted', id: 'tail-state' }, 'connecting…');
  const tail = h('ol', { class: 'tail', id: 'tail' });
  const history = h('tbody');
  const config = h('div', { id: 'config' });
  const rollbackMessage = h('p', { class: 'muted', id: 'rollback-message', 'aria-live': 'polite' });

  show(
    root,
    h('p', null, h('a', { href: '#/' }, '← functions')),
    h('h1', null, name, ' ', h('span', { class: 'muted' }, `· tenant ${api.session.tenant}`)),
    summary,
    h('div', { class: 'actions' }, h('button', { id: 'invoke', onclick: () => void invoke() }, 'Invoke'), invokeResult),
    h(
      'div',
      { class: 'grid' },
      h('section', { class: 'card' }, h('h2', null, 'Latency, cold vs warm'), h('p', { class: 'muted small' }, 'recent invocations'), histogramCard),
      h(
        'section',
        { class: 'card' },
        h('h2', null, 'VMs over time'),
        h('p', { class: 'muted small' }, 'warm and busy VMs of this function, up to the last 5 minutes'),
        poolCard,
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, 'Recent invocations'),
      h(
        'table',
        { class: 'list', id: 'invocations' },
        h('thead', null, h('tr', null, ...['Time', 'Invocation', 'Version', 'Status', 'Duration', 'Start', 'Logs'].map((t) => h('th', null, t)))),
        invocations,
      ),
    ),
    h('section', { class: 'card' }, h('h2', null, 'Live log tail ', tailState), tail),
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card' },
        h('h2', null, 'Deploy history'),
        h('div', { class: 'actions' }, h('button', { id: 'rollback', onclick: () => void rollback() }, 'Roll back to the previous version'), rollbackMessage),
        h(
          'table',
          { class: 'list', id: 'versions' },
          h('thead', null, h('tr', null, ...['Version', 'Deployed', 'Memory', 'Timeout', 'Env names', ''].map((t) => h('th', null, t)))),
          history,
        ),
      ),
      h('section', { class: 'card' }, h('h2', null, 'Configuration'), config),
    ),
  );

  // Recent invocations: the newest first, from the logs route, then as the tail brings them.
  const records = new Map<number, InvocationRecord>();
  const redrawInvocations = () => {
    const newest = [...records.values()].sort((a, b) => b.id - a.id);
    show(invocations, ...newest.map(invocationRow));
    show(histogramCard, latencyHistogram(newest.map((r) => ({ ms: r.durationMs, cold: r.cold }))));
  };
  const take = (record: InvocationRecord) => {
    records.set(record.id, record);
    while (records.size > KEEP_RECORDS) records.delete(Math.min(...records.keys()));
  };

  const redrawDetail = (d: ConsoleFunctionDetail) => {
    show(
      summary,
      h('span', null, 'live ', h('strong', { id: 'live-version' }, d.liveVersion === null ? '–' : `v${d.liveVersion}`)),
      h('span', null, 'aliases ', ...d.aliases.map((a) => h('span', { class: 'chip' }, `${a.name} → v${a.version}`))),
      h('span', { id: 'pool-now' }, `${d.pool.idle} idle, ${d.pool.busy} busy VMs`),
      h('span', null, d.public ? 'public' : 'private'),
    );
    show(
      history,
      ...d.versions.map((v) =>
        h(
          'tr',
          { 'data-version': v.version, class: v.version === d.liveVersion ? 'is-live' : '' },
          h('td', null, `v${v.version}`, v.version === d.liveVersion ? [' ', h('span', { class: 'chip live' }, 'live')] : null),
          h('td', null, dateTime(v.createdAt)),
          h('td', null, `${v.config.memoryMiB} MiB`),
          h('td', null, formatMs(v.config.timeoutMs)),
          h('td', null, v.envNames.length === 0 ? h('span', { class: 'muted' }, 'none') : v.envNames.join(', ')),
          h('td', null, v.version === d.liveVersion ? '' : h('button', { class: 'small', onclick: () => void rollback(v.version) }, `Make v${v.version} live`)),
        ),
      ),
    );
    const names = (list: string[], what: string) =>
      list.length === 0 ? h('p', { class: 'muted' }, `no ${what}`) : h('ul', { class: 'names' }, ...list.map((n) => h('li', null, h('code', null, n))));
    show(
      config,
      h('h3', null, 'Env vars (live version)'),
      h('div', { id: 'env-names' }, names(d.envNames, 'env vars')),
      h('h3', null, 'Secrets'),
      h('div', { id: 'secret-names' }, names(d.secretNames, 'secrets')),
      h('p', { class: 'muted small' }, 'Names only: values are never shown here. Change them with fn env and fn secret.'),
    );
    (root.querySelector('#rollback') as HTMLButtonElement).disabled = !d.versions.some((v) => d.liveVersion !== null && v.version < d.liveVersion);
  };

  const load = async () => {
    const [d, recent] = await Promise.all([api.function(name), api.recent(name)]);
    for (const r of recent.records) take(r);
    redrawDetail(d);
    redrawInvocations();
  };

  async function invoke(): Promise<void> {
    show(invokeResult, 'invoking…');
    try {
      const r = await api.invoke(name);
      show(
        invokeResult,
        h('span', { class: `status ${r.status < 400 ? 'ok' : 'error'}` }, String(r.status)),
        ' ',
        r.cold === null ? null : tag(r.cold),
        r.durationMs === null ? null : ` ${formatMs(r.durationMs)} `,
        r.invocationId ? h('code', { class: 'small' }, r.invocationId) : null,
        h('pre', { class: 'body' }, r.body),
      );
    } catch (error) {
      show(invokeResult, h('span', { class: 'error' }, `invoke failed: ${(error as Error).message}`));
    }
  }

  async function rollback(version?: number): Promise<void> {
    show(rollbackMessage, 'rolling back…');
    try {
      const moved = await api.rollback(name, version);
      show(rollbackMessage, `live moved from v${moved.from ?? '–'} to v${moved.to}`);
      redrawDetail(await api.function(name));
    } catch (error) {
      show(rollbackMessage, h('span', { class: 'error' }, (error as Error).message));
    }
  }

  void load()
    .then(() => {
      every(REFRESH_MS, async () => redrawDetail(await api.function(name)));
      every(2_000, async () => {
        const p = await api.pools(name, Date.now() - POOL_WINDOW_MS);
        // The axis spans what was seen (at least 15 s, at most five minutes), not five empty minutes.
        const first = p.samples[0]?.at ?? p.now;
        const windowMs = Math.min(POOL_WINDOW_MS, Math.max(15_000, p.now - first + 2_000));
        show(poolCard, poolChart(p.samples, p.now, windowMs));
      });
      void api
        .tail(
          name,
          (record) => {
            take(record);
            redrawInvocations();
            appendTail(tail, record);
          },
          stop.signal,
          (live) => {
            show(tailState, live ? '● live' : 'reconnecting…');
            tailState.classList.toggle('on', live);
          },
        )
        .catch((error) => {
          if (!stop.signal.aborted) onError(error);
        });
    })
    .catch((error) => {
      if (error instanceof ApiError && error.status === 404) show(root, h('h1', null, name), h('p', { class: 'error', id: 'not-found' }, error.message));
      else onError(error);
    });

  return () => {
    stop.abort();
    for (const t of timers) window.clearTimeout(t);
  };
}

function invocationRow(r: InvocationRecord): HTMLTableRowElement {
  const logs =
    r.logs.length === 0
      ? h('span', { class: 'muted' }, '–')
      : h('details', null, h('summary', null, `${r.logs.length} line${r.logs.length === 1 ? '' : 's'}`), logList(r));
  return h(
    'tr',
    { 'data-invocation': r.invocationId },
    h('td', null, clockTime(r.at)),
    h('td', null, h('code', { class: 'small' }, r.invocationId)),
    h('td', null, `v${r.version}`),
    h('td', null, h('span', { class: `status ${r.status}` }, r.status)),
    h('td', { class: 'num' }, formatMs(r.durationMs)),
    h('td', null, tag(r.cold)),
    h('td', null, logs),
  );
}

function logList(r: InvocationRecord): HTMLOListElement {
  return h(
    'ol',
    { class: 'log-lines' },
    ...r.logs.map((l) => h('li', { class: `level-${l.level}` }, h('span', { class: 'muted' }, `+${formatMs(l.ms)} `), l.message)),
  );
}

function appendTail(list: HTMLOListElement, r: InvocationRecord): void {
  const head = h(
    'li',
    { class: 'tail-head' },
    `${clockTime(r.at)} `,
    h('code', null, r.invocationId),
    ` v${r.version} `,
    h('span', { class: `status ${r.status}` }, r.status),
    ' ',
    tag(r.cold),
    ` ${formatMs(r.durationMs)}`,
  );
  list.append(head, ...r.logs.map((l) => h('li', { class: `level-${l.level}` }, `  ${l.message}`)));
  while (list.childElementCount > TAIL_LINES) list.firstElementChild?.remove();
  list.scrollTop = list.scrollHeight;
}
