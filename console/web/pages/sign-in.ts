/**
 * Sign in with an API key. A tenant key shows its tenant; an admin key, which belongs to no
 * tenant, chooses one of the tenants it may act for (the API's own ?tenant= rule).
 */
import { Api, ApiError } from '../api.js';
import { h, show } from '../dom.js';
import { saveSession } from '../session.js';

export function signInPage(root: HTMLElement, done: () => void, notice?: string): () => void {
  const key = h('input', { type: 'password', name: 'key', id: 'key', autocomplete: 'off', placeholder: 'fn_…', required: true, spellcheck: 'false' });
  const message = h('p', { class: 'error', role: 'alert' }, notice ?? '');
  const tenantRow = h('div', { class: 'field', hidden: true });
  const tenantSelect = h('select', { id: 'tenant', name: 'tenant' });
  let admin = false;

  const form = h(
    'form',
    { class: 'card sign-in', onsubmit: (e) => void submit(e) },
    h('h1', null, 'Sign in'),
    h('p', { class: 'muted' }, 'Use an API key of your tenant (fn login, or an admin’s fn keys create). It is kept in this tab only.'),
    h('div', { class: 'field' }, h('label', { for: 'key' }, 'API key'), key),
    tenantRow,
    h('button', { type: 'submit' }, 'Sign in'),
    message,
  );
  show(root, form);
  key.focus();

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    show(message, '');
    const secret = key.value.trim();
    try {
      if (admin && tenantSelect.value) {
        saveSession({ key: secret, tenant: tenantSelect.value, admin: true });
        return done();
      }
      const who = await new Api({ key: secret, tenant: '', admin: false }).whoami();
      if (who.tenant !== null) {
        saveSession({ key: secret, tenant: who.tenant, admin: false });
        return done();
      }
      // An admin key: which tenant to look at?
      const { tenants } = await new Api({ key: secret, tenant: '', admin: true }).tenants();
      if (tenants.length === 0) return show(message, 'This admin key works, but there is no tenant yet: create one with fn tenants create.');
      admin = true;
      show(tenantSelect, ...tenants.map((t) => h('option', { value: t.id }, t.id)));
      show(tenantRow, h('label', { for: 'tenant' }, 'Tenant (admin key)'), tenantSelect);
      tenantRow.hidden = false;
      key.readOnly = true;
    } catch (error) {
      show(
        message,
        error instanceof ApiError && error.status === 401 ? 'That key is not valid (unknown or revoked).' : `Could not sign in: ${(error as Error).message}`,
      );
    }
  }
  return () => {};
}
