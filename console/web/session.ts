/**
 * Who is signed in: the API key (and, for an admin key, the tenant it acts for) kept in this tab's
 * sessionStorage, gone when the tab closes; never in localStorage, a cookie or a URL.
 */
const KEY = 'fn.console.key';
const TENANT = 'fn.console.tenant';

export interface Session {
  key: string;
  /** The tenant the console shows: the key's own, or the one an admin chose. */
  tenant: string;
  admin: boolean;
}

export function loadSession(): Session | null {
  const key = sessionStorage.getItem(KEY);
  const tenant = sessionStorage.getItem(TENANT);
  if (!key || !tenant) return null;
  return { key, tenant, admin: sessionStorage.getItem(`${TENANT}.admin`) === '1' };
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, session.key);
  sessionStorage.setItem(TENANT, session.tenant);
  sessionStorage.setItem(`${TENANT}.admin`, session.admin ? '1' : '0');
}

export function clearSession(): void {
  for (const k of [KEY, TENANT, `${TENANT}.admin`]) sessionStorage.removeItem(k);
}
