/** The tenant's functions: live version, aliases, warm VMs and the last invocation, refreshed. */
import type { Api, ConsoleFunction } from '../api.js';
import { h, show } from '../dom.js';
import { ago, formatMs } from '../format.js';

const REFRESH_MS = 3_000;

export function functionsPage(root: HTMLElement, api: Api, onError: (error: unknown) => void): () => void {
  const body = h('tbody');
  const status = h('p', { class: 'muted' }, 'Loading…');
  show(
    root,
    h('h1', null, 'Functions ', h('span', { class: 'muted' }, `· tenant ${api.session.tenant}`)),
    h(
      'table',
      { class: 'list', id: 'functions' },
      h('thead', null, h('tr', null, ...['Function', 'Live', 'Aliases', 'Warm VMs', 'Last invocation', 'Access'].map((t) => h('th', null, t)))),
      body,
    ),
    status,
  );

  let stopped = false;
  let timer: number | undefined;
  const refresh = async () => {
    try {
      const { functions } = await api.functions();
      if (stopped) return;
      show(body, ...functions.map(row));
      show(status, functions.length === 0 ? 'No functions yet: deploy one with fn deploy.' : '');
    } catch (error) {
      if (!stopped) onError(error);
      return;
    }
    if (!stopped) timer = window.setTimeout(refresh, REFRESH_MS);
  };
  void refresh();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

function row(f: ConsoleFunction): HTMLTableRowElement {
  const last = f.lastInvocation;
  return h(
    'tr',
    { 'data-function': f.name },
    h('td', null, h('a', { href: `#/functions/${encodeURIComponent(f.name)}`, class: 'fn-link' }, f.name)),
    h('td', { class: 'live' }, f.liveVersion === null ? '–' : `v${f.liveVersion}`),
    h('td', null, ...f.aliases.map((a) => h('span', { class: 'chip' }, `${a.name} → v${a.version}`))),
    h('td', { class: 'pool' }, f.pool.idle + f.pool.busy === 0 ? h('span', { class: 'muted' }, 'none') : `${f.pool.idle} idle, ${f.pool.busy} busy`),
    h(
      'td',
      null,
      last
        ? [h('span', { class: `status ${last.status}` }, last.status), ' ', tag(last.cold), ` ${formatMs(last.durationMs)} · ${ago(last.at, Date.now())}`]
        : h('span', { class: 'muted' }, 'never'),
    ),
    h('td', null, f.public ? 'public' : 'private'),
  );
}

export function tag(cold: boolean): HTMLSpanElement {
  return h('span', { class: `tag ${cold ? 'cold' : 'warm'}` }, cold ? 'cold' : 'warm');
}
