/**
 * What never reaches a log line. pino's redact paths name the fields (top level and one level down:
 * `headers.authorization`, `request.headers`…); the censor keeps the shape where the shape helps
 * (env and secret names stay, their values go; non-sensitive headers stay) and drops the value.
 */

export const REDACTED = '[redacted]';

/** Field names whose value is a credential wherever they appear. */
const SECRET_KEYS = ['apiKey', 'api_key', 'adminKey', 'token', 'secret', 'password', 'authorization', 'cookie', 'set-cookie', 'x-api-key'];
/** Fields holding name → value maps whose values are private (env vars, secrets). */
const VALUE_MAPS = ['env', 'secrets'];
/** Fields holding HTTP headers (an object or [name, value] pairs). */
const HEADER_FIELDS = ['headers'];

const at = (key: string): string[] => {
  const quoted = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const join = (prefix: string) => (quoted.startsWith('[') ? `${prefix}${quoted}` : `${prefix}.${quoted}`);
  return [quoted, join('*'), join('*.*')];
};

export const REDACT_PATHS: string[] = [...SECRET_KEYS, ...VALUE_MAPS, ...HEADER_FIELDS].flatMap(at);

const SENSITIVE_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-fn-api-key']);

function redactHeaders(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map((pair) =>
      Array.isArray(pair) && typeof pair[0] === 'string' && SENSITIVE_HEADERS.has(pair[0].toLowerCase()) ? [pair[0], REDACTED] : pair,
    );
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, v]) => [name, SENSITIVE_HEADERS.has(name.toLowerCase()) ? REDACTED : v]));
  }
  return REDACTED;
}

function redactValues(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) return Object.fromEntries(Object.keys(value).map((name) => [name, REDACTED]));
  return REDACTED;
}

/** pino's censor: called with the value found at a redact path and that path. */
export function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (HEADER_FIELDS.includes(key)) return redactHeaders(value);
  if (VALUE_MAPS.includes(key)) return redactValues(value);
  return REDACTED;
}
