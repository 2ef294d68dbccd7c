/**
 * Invocation URLs: /fn/<tenant>/<name>[@<version-or-alias>][/<path>][?<query>].
 *
 *   /fn/acme/api/users?id=7      → acme's api, the version `live` points at, url "/users?id=7"
 *   /fn/acme/api@3/users         → version 3
 *   /fn/acme/api@staging         → the version the alias `staging` points at, url "/"
 *
 * The function sees only what follows its name: it can be mounted anywhere without knowing where.
 * The path is passed on exactly as received (still percent-encoded).
 */
import { BadRequestError } from './errors.js';

export interface InvokeTarget {
  tenant: string;
  name: string;
  /** 'live' unless the URL names a version or alias. */
  selector: string;
  /** What the function sees as the request URL: path and query. */
  url: string;
}

export function parseTarget(url: URL): InvokeTarget {
  const [, fn, tenant, target, ...rest] = url.pathname.split('/');
  if (fn !== 'fn' || !tenant || !target) throw new BadRequestError('invocation URLs look like /fn/<tenant>/<name>[@<version-or-alias>]/<path>');
  let decoded: string;
  try {
    decoded = decodeURIComponent(target);
  } catch {
    throw new BadRequestError('the function name in the URL is not valid percent-encoding');
  }
  const at = decoded.indexOf('@');
  const name = at < 0 ? decoded : decoded.slice(0, at);
  const selector = at < 0 ? 'live' : decoded.slice(at + 1);
  if (selector === '') throw new BadRequestError(`"${decoded}": name a version or an alias after @, e.g. ${name}@3 or ${name}@live`);
  return { tenant, name, selector, url: `/${rest.join('/')}${url.search}` };
}
