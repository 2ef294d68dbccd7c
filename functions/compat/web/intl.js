// Intl in the guest: the request lists cases, the response answers each (the test runs the same
// cases on Node's ICU and compares). A case that throws answers with the error's name and message.
// {mul: [a, b]}: a large double made by arithmetic (QuickJS 2021 parses some 21-digit literals one
// double off, which is not Intl's business).
const revive = (v) =>
  v && typeof v === 'object' && 'mul' in v
    ? v.mul[0] * v.mul[1]
    : v && typeof v === 'object' && 'bigint' in v
      ? BigInt(v.bigint)
      : v === 'NaN'
        ? NaN
        : v === 'Infinity'
          ? Infinity
          : v === '-Infinity'
            ? -Infinity
            : v === '-0'
              ? -0
              : v;

export function runIntlCase(c) {
  try {
    switch (c.kind) {
      case 'number':
        return new Intl.NumberFormat(c.locale ?? 'en-US', c.options).format(revive(c.value));
      case 'numberParts':
        return new Intl.NumberFormat(c.locale ?? 'en-US', c.options).formatToParts(revive(c.value));
      case 'numberResolved':
        return new Intl.NumberFormat(c.locale, c.options).resolvedOptions();
      case 'date':
        return new Intl.DateTimeFormat(c.locale ?? 'en-US', { timeZone: 'UTC', ...c.options }).format(c.value);
      case 'dateParts':
        return new Intl.DateTimeFormat(c.locale ?? 'en-US', { timeZone: 'UTC', ...c.options }).formatToParts(c.value);
      case 'dateResolved':
        return new Intl.DateTimeFormat(c.locale, { timeZone: 'UTC', ...c.options }).resolvedOptions();
      case 'plural':
        return c.values.map((v) => new Intl.PluralRules('en-US', c.options).select(v));
      case 'sort':
        return c.values.slice().sort(new Intl.Collator('en', c.options).compare);
      case 'compare':
        return new Intl.Collator('en', c.options).compare(c.values[0], c.values[1]);
      case 'supported':
        return [Intl.NumberFormat.supportedLocalesOf(c.values), Intl.DateTimeFormat.supportedLocalesOf(c.values), Intl.getCanonicalLocales(c.values)];
      case 'boundFormat':
        return [1234.5, 2].map(new Intl.NumberFormat('en-US').format);
      case 'dateCtor':
        return new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', ...c.options }).format(new Date(c.value));
    }
    return `unknown case ${c.kind}`;
  } catch (e) {
    return { error: e.name, message: e.message };
  }
}

export default {
  async fetch(request) {
    const cases = await request.json();
    return Response.json(cases.map(runIntlCase));
  },
};
