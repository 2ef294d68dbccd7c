/**
 * The fn web console: a single page with hash routes, signed in with an API key.
 *
 *   #/                   the tenant's functions
 *   #/functions/<name>   one function
 *
 * Each page returns its own stop function (timers, the live tail), called when the route changes.
 */
import { Api, ApiError } from './api.js';
import { h, show } from './dom.js';
import { functionPage } from './pages/function.js';
import { functionsPage } from './pages/functions.js';
import { signInPage } from './pages/sign-in.js';
import { clearSession, loadSession } from './session.js';

const root = document.getElementById('app') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;
let stopPage: () => void = () => {};

function route(notice?: string): void {
  stopPage();
  const session = loadSession();
  if (!session) {
    show(who);
    stopPage = signInPage(root, () => route(), notice);
    return;
  }
  const api = new Api(session);
  show(
    who,
    h('span', { id: 'signed-in' }, session.admin ? `admin key · tenant ${session.tenant}` : `tenant ${session.tenant}`),
    ' ',
    h('button', { class: 'small', id: 'sign-out', onclick: signOut }, 'Sign out'),
  );
  const fn = /^#\/functions\/([^/]+)$/.exec(location.hash);
  stopPage = fn ? functionPage(root, api, decodeURIComponent(fn[1]!), failed) : functionsPage(root, api, failed);
}

function failed(error: unknown): void {
  // A key revoked while signed in: back to the sign-in form, saying why.
  if (error instanceof ApiError && error.status === 401) {
    clearSession();
    route(`Signed out: ${error.message}`);
    return;
  }
  const banner = h(
    'p',
    { class: 'error banner', role: 'alert' },
    `Something failed: ${(error as Error).message} `,
    h('a', { href: location.hash || '#/' }, 'retry'),
  );
  root.prepend(banner);
}

function signOut(): void {
  clearSession();
  location.hash = '#/';
  route();
}

window.addEventListener('hashchange', () => route());
route();
