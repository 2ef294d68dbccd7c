/**
 * fast-check arbitraries from the JSON Schemas of /openapi.json — which the gateway generates from
 * the zod schemas that validate its requests (gateway/src/openapi.ts), so the control-API fuzzer
 * follows the API as the code checks it, with no list of its own to drift. `valid` makes values
 * the schema accepts (strings kept short: this is about shapes, not sizes); `mutated` bends them
 * the ways a careless or hostile client would.
 */
import fc from 'fast-check';

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
};

const SHORT = 24;

function stringOf(s: JsonSchema): fc.Arbitrary<string> {
  if (s.pattern) {
    // stringMatching honours the pattern but not the length bounds: filter those.
    return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? Infinity));
  }
  const min = s.minLength ?? 0;
  return fc.string({ minLength: min, maxLength: Math.max(min, Math.min(s.maxLength ?? SHORT, SHORT)) });
}

/** Values the schema accepts. */
export function valid(s: JsonSchema): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map(valid));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return stringOf(s);
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? -1e9, Number.MIN_SAFE_INTEGER), max: Math.min(s.maximum ?? 1e9, Number.MAX_SAFE_INTEGER) });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(s.items ? valid(s.items) : fc.jsonValue(), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 4, 4) });
    case 'object': {
      const props = s.properties ?? {};
      if (Object.keys(props).length > 0 || s.additionalProperties === false) {
        const required = new Set(s.required ?? []);
        return fc.record(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valid(v)])), {
          requiredKeys: Object.keys(props).filter((k) => required.has(k)),
        });
      }
      // A record: names from propertyNames, values from additionalProperties.
      const keys = s.propertyNames ? (valid(s.propertyNames) as fc.Arbitrary<string>) : fc.string({ maxLength: 12 });
      const values = typeof s.additionalProperties === 'object' ? valid(s.additionalProperties) : fc.jsonValue();
      return fc.dictionary(keys, values, { maxKeys: 4 });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, '', -1, 0, 1e308, -0, true, [], {}, '__proto__', 'x'.repeat(2000), '\u0000', '\ud800', 2 ** 53 + 1),
);

/** A value of the schema, bent: a field replaced, dropped or added, or something else entirely. */
export function mutated(s: JsonSchema): fc.Arbitrary<unknown> {
  const base = valid(s);
  return fc.oneof(
    { weight: 10, arbitrary: base },
    {
      weight: 3,
      arbitrary: fc.tuple(base, fc.nat(), junk).map(([v, i, j]) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return j;
        const keys = Object.keys(v);
        if (keys.length === 0) return { [`x${i}`]: j };
        return { ...v, [keys[i % keys.length]!]: j };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(base, fc.nat()).map(([v, i]) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
        const keys = Object.keys(v);
        const copy = { ...(v as Record<string, unknown>) };
        if (keys.length > 0) delete copy[keys[i % keys.length]!];
        return copy;
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(base, fc.constantFrom('unknown', 'constructor', 'prototype', 'toString'), junk)
        .map(([v, k, j]) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...v, [k]: j } : v)),
    },
    { weight: 1, arbitrary: junk },
  );
}

/** A request body as text: mostly JSON of a (mutated) value, sometimes text that is not JSON at all. */
export function bodyText(s: JsonSchema | undefined): fc.Arbitrary<string | undefined> {
  const json = (s ? mutated(s) : junk).map((v) => JSON.stringify(v) ?? 'null');
  return fc.oneof(
    { weight: 8, arbitrary: json },
    { weight: 1, arbitrary: json.chain((t) => fc.nat({ max: Math.max(0, t.length - 1) }).map((n) => t.slice(0, n))) },
    { weight: 1, arbitrary: json.map((t) => t.replace(/^\{/, '{"__proto__":{"admin":true},')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60, unit: 'binary' }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}
