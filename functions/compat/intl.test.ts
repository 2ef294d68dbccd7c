// Intl in the real guest (guest/src/prelude/intl.js) against Node's ICU, case by case: what the
// guest's small Intl formats must read exactly as Node's en-US does; what it cannot do must throw
// a RangeError that says so; other locales fall back to en-US and say so in resolvedOptions.
import { expect, it } from 'vitest';
import { describeEachBackend } from '../../vmm/src/test-support/backends.js';
import { bodyText, invokeInGuest } from './test-support/guest.js';
// @ts-expect-error — a plain JS module shared with the guest function
import { runIntlCase } from './web/intl.js';

type Case = Record<string, unknown>;

const AT = Date.UTC(2026, 11, 7, 15, 4, 5, 123);
const MORNING = Date.UTC(2031, 0, 5, 3, 9, 0);
const NUMBERS = [
  0,
  '-0',
  1,
  -1,
  7,
  1234567.891,
  0.0005,
  -0.0001,
  1.005,
  2.5,
  -2.5,
  999.9995,
  1e21,
  1.23e-7,
  { mul: [123456789, 1e12 + 7] },
  { mul: [2 ** 60, 3.7] },
  0.1 + 0.2,
  'NaN',
  'Infinity',
  '-Infinity',
  { bigint: '12345678901234567890' },
  { bigint: '-42' },
];
const NUMBER_OPTIONS: (Record<string, unknown> | undefined)[] = [
  undefined,
  { maximumFractionDigits: 0 },
  { minimumFractionDigits: 2 },
  { maximumFractionDigits: 1 },
  { minimumFractionDigits: 1, maximumFractionDigits: 4 },
  { minimumIntegerDigits: 3 },
  { useGrouping: false },
  { style: 'percent' },
  { style: 'percent', minimumFractionDigits: 1 },
  { style: 'currency', currency: 'USD' },
  { style: 'currency', currency: 'eur' },
  { style: 'currency', currency: 'JPY' },
  { style: 'currency', currency: 'GBP' },
  { style: 'currency', currency: 'CHF' },
  { style: 'currency', currency: 'CAD' },
  { style: 'currency', currency: 'CAD', currencyDisplay: 'narrowSymbol' },
  { style: 'currency', currency: 'USD', currencyDisplay: 'code' },
  { style: 'currency', currency: 'KWD' },
];
const DATE_OPTIONS: Record<string, unknown>[] = [
  {},
  { dateStyle: 'full' },
  { dateStyle: 'long' },
  { dateStyle: 'medium' },
  { dateStyle: 'short' },
  { timeStyle: 'full' },
  { timeStyle: 'long' },
  { timeStyle: 'medium' },
  { timeStyle: 'short' },
  { dateStyle: 'full', timeStyle: 'short' },
  { dateStyle: 'long', timeStyle: 'medium' },
  { dateStyle: 'medium', timeStyle: 'short' },
  { dateStyle: 'short', timeStyle: 'short' },
  { year: 'numeric', month: 'long', day: 'numeric' },
  { month: 'short', day: 'numeric' },
  { month: 'long', year: 'numeric' },
  { month: 'long' },
  { month: 'narrow' },
  { weekday: 'long' },
  { weekday: 'narrow' },
  { weekday: 'short', year: 'numeric', month: 'numeric', day: 'numeric' },
  { weekday: 'long', year: 'numeric', month: 'numeric', day: 'numeric' },
  { weekday: 'long', month: 'long', day: 'numeric' },
  { weekday: 'short', month: 'long', day: 'numeric', year: 'numeric', hour: 'numeric', minute: 'numeric' },
  { year: 'numeric' },
  { day: 'numeric' },
  { minute: 'numeric' },
  { month: 'numeric', day: 'numeric' },
  { month: 'numeric', year: 'numeric' },
  { month: '2-digit', day: '2-digit', year: 'numeric' },
  { year: '2-digit', month: 'numeric', day: 'numeric' },
  { hour: 'numeric' },
  { hour: '2-digit' },
  { hour: 'numeric', minute: '2-digit' },
  { hour: '2-digit', minute: '2-digit' },
  { hour: 'numeric', minute: 'numeric', second: 'numeric' },
  { hour: 'numeric', minute: '2-digit', hour12: false },
  { hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' },
  { year: 'numeric', month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit' },
  { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: '2-digit' },
  { month: 'short', day: 'numeric', hour: 'numeric' },
  { timeZoneName: 'short' },
  { hour: 'numeric', timeZoneName: 'short' },
  { month: 'long', day: 'numeric', timeZoneName: 'short' },
  { year: 'numeric', month: 'long', day: 'numeric', timeZoneName: 'long' },
];

const CASES: Case[] = [
  ...NUMBER_OPTIONS.flatMap((options) => NUMBERS.map((value) => ({ kind: 'number', value, options }))),
  { kind: 'numberParts', value: -1234.5, options: { style: 'currency', currency: 'CHF' } },
  { kind: 'numberParts', value: 0.256, options: { style: 'percent', maximumFractionDigits: 1 } },
  ...NUMBER_OPTIONS.map((options) => ({ kind: 'numberResolved', locale: 'en-US', options })),
  ...DATE_OPTIONS.flatMap((options) => [AT, MORNING, 0, -1e12].map((value) => ({ kind: 'date', value, options }))),
  { kind: 'dateParts', value: AT, options: { dateStyle: 'medium', timeStyle: 'short' } },
  { kind: 'dateParts', value: MORNING, options: { weekday: 'long', month: 'long', day: 'numeric', hour: 'numeric' } },
  { kind: 'dateCtor', value: AT, options: { dateStyle: 'long' } },
  ...DATE_OPTIONS.filter((o) => !('hour12' in o)).map((options) => ({ kind: 'dateResolved', locale: 'en-US', options })),
  { kind: 'plural', values: [0, 1, 1.5, 2, -1, 'NaN'] },
  { kind: 'plural', values: [0, 1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112, 1.5], options: { type: 'ordinal' } },
  {
    kind: 'sort',
    values: ['b', 'a', 'B', 'á', 'A', 'z', 'Z', 'ä', 'Äb', 'ab', 'résumé', 'resume', 'Resume', 'rèsume', 'x10', 'x9', 'x1', 'à', 'â', 'ã', 'å', 'ă', 'ǎ'],
  },
  { kind: 'sort', values: ['item10', 'item9', 'Item2', 'item1', 'item01'], options: { numeric: true } },
  { kind: 'sort', values: ['apple pie', 'apple', 'apple2', 'apple10', 'Apple'] },
  ...['base', 'accent', 'case', 'variant'].flatMap((sensitivity) =>
    [
      ['a', 'A'],
      ['a', 'á'],
      ['a', 'b'],
      ['résumé', 'Resume'],
      ['Ä', 'a'],
    ].map((values) => ({ kind: 'compare', values, options: { sensitivity } })),
  ),
  { kind: 'supported', values: ['en-US', 'en'] },
  { kind: 'boundFormat' },
];

describeEachBackend('Intl in the guest', (backend) => {
  it('formats, selects and compares as Node’s ICU does for en-US in UTC', async () => {
    const got = JSON.parse(bodyText(await invokeInGuest(backend, 'web/intl.js', { method: 'POST', body: Buffer.from(JSON.stringify(CASES)) }))) as unknown[];
    const want = CASES.map((c) => JSON.parse(JSON.stringify(runIntlCase(c))));
    // One deliberate difference: hour12: false is the h23 cycle, as ECMA-402 says since 2023
    // (midnight is 00:00); Node 20's V8 still takes h24 for en-US and prints 24:00.
    CASES.forEach((c, i) => {
      if (c.kind === 'date' && c.value === 0 && (c.options as Record<string, unknown>).hour12 === false) {
        expect(want[i]).toBe('24:00');
        want[i] = '00:00';
      }
    });
    const label = (c: Case) => JSON.stringify(c);
    expect(Object.fromEntries(got.map((g, i) => [label(CASES[i]!), g]))).toEqual(Object.fromEntries(want.map((w, i) => [label(CASES[i]!), w])));
  });

  it('says what it cannot do, and falls back to en-US for other locales (and says so)', async () => {
    const cases: Case[] = [
      { kind: 'date', value: AT, options: { timeZone: 'America/New_York' } },
      { kind: 'number', value: 1, options: { notation: 'compact' } },
      { kind: 'number', value: 1, options: { style: 'unit', unit: 'meter' } },
      { kind: 'number', value: 1, options: { maximumSignificantDigits: 2 } },
      { kind: 'number', value: 1, options: { style: 'currency', currency: 'USD', currencyDisplay: 'name' } },
      { kind: 'date', value: AT, options: { era: 'short' } },
      { kind: 'number', value: 1234.5, locale: 'de-DE' },
      { kind: 'numberResolved', locale: 'de-DE' },
      { kind: 'dateResolved', locale: ['fr', 'en'] },
      { kind: 'supported', values: ['fr-FR', 'EN-us', 'en-GB', 'en'] },
      { kind: 'number', value: 1, options: { style: 'currency' } },
      { kind: 'number', value: 1, locale: 'not a locale!' },
    ];
    type Answer = Record<string, string>;
    const result = await invokeInGuest(backend, 'web/intl.js', { method: 'POST', body: Buffer.from(JSON.stringify(cases)) });
    const got = JSON.parse(bodyText(result)) as Answer[];
    const NOT_AVAILABLE = { error: 'RangeError', message: expect.stringContaining("is not available in fn's guest runtime") };
    expect(got.slice(0, 6)).toEqual([NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE]);
    expect(got[0].message).toContain('"America/New_York"');
    expect(got[6]).toBe('1,234.5'); // en-US digits, not German ones …
    expect(got[7].locale).toBe('en-US'); // … and resolvedOptions says which locale it used
    expect(got[8].locale).toBe('en');
    expect(got[9]).toEqual([
      ['en-US', 'en'],
      ['en-US', 'en'],
      ['fr-FR', 'en-US', 'en-GB', 'en'],
    ]);
    expect(got[10]).toEqual({ error: 'TypeError', message: expect.stringContaining('Currency code is required') });
    expect(got[11]).toEqual({ error: 'RangeError', message: expect.stringContaining('Incorrect locale information') });
  });
});
