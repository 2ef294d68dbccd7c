// intl.js — a small, honest Intl: English ('en-US', the default, and 'en') and the UTC time zone
// only, because the guest has no locale or time-zone data (ICU would weigh more than the rest of
// the runtime). What it does, it does as Node's ICU does for en-US (functions/compat tests it
// case by case against Node); what it does not do fails loudly:
//   - another locale is not an error (ECMA-402 falls back to the default locale), but
//     resolvedOptions().locale says 'en-US' and supportedLocalesOf() lists only en-US and en;
//   - an option this implementation cannot honour (another time zone, notation: 'compact',
//     style: 'unit', significant digits, …) throws a RangeError that says so;
//   - Intl.Segmenter, RelativeTimeFormat, ListFormat, DisplayNames and Locale are left undefined,
//     so feature checks (`if (Intl.Segmenter)`) take their fallback.
// Provided: NumberFormat (decimal, percent, currency), DateTimeFormat (components, dateStyle and
// timeStyle, in UTC), PluralRules (English cardinal and ordinal), Collator (see compareStrings),
// getCanonicalLocales.

import { defineGlobal, defineMethods, setToStringTag } from './internal.js';

const DEFAULT_LOCALE = 'en-US';
const SUPPORTED = ['en-US', 'en'];

function notAvailable(what) {
  return new RangeError(
    `${what} is not available in fn's guest runtime (its Intl knows English, en-US, and the UTC time zone only) — format it yourself or leave the option out`,
  );
}

// --- locales ---------------------------------------------------------------------------------

const TAG = /^[a-z]{2,3}(-[a-z]{4})?(-([a-z]{2}|[0-9]{3}))?(-([a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*(-[a-wyz0-9](-[a-z0-9]{2,8})+)*(-x(-[a-z0-9]{1,8})+)?$/i;

function canonicalTag(tag) {
  if (typeof tag !== 'string' && (tag === null || typeof tag !== 'object')) throw new TypeError('Intl: a locale must be a string');
  const text = String(tag);
  if (!TAG.test(text)) throw new RangeError(`Incorrect locale information provided: ${JSON.stringify(text)}`);
  return text
    .split('-')
    .map((part, i) => {
      if (i === 0) return part.toLowerCase();
      if (part.length === 4 && /^[a-z]+$/i.test(part)) return part[0].toUpperCase() + part.slice(1).toLowerCase();
      if (part.length === 2) return part.toUpperCase();
      return part.toLowerCase();
    })
    .join('-');
}

function canonicalList(locales) {
  if (locales === undefined) return [];
  const list = typeof locales === 'string' ? [locales] : Array.from(locales);
  const out = [];
  for (const tag of list) {
    const c = canonicalTag(tag);
    if (out.indexOf(c) < 0) out.push(c);
  }
  return out;
}

function isSupported(tag) {
  return SUPPORTED.indexOf(tag.replace(/-u-.*$/, '')) >= 0;
}

function resolveLocale(locales) {
  for (const tag of canonicalList(locales)) {
    const bare = tag.replace(/-u-.*$/, '');
    if (isSupported(bare)) return bare;
  }
  return DEFAULT_LOCALE;
}

function supportedLocalesOf(locales) {
  return canonicalList(locales).filter(isSupported);
}

// --- options ---------------------------------------------------------------------------------

function optionsObject(options) {
  if (options === undefined) return Object.create(null);
  if (options === null) throw new TypeError('Intl: options must be an object');
  return Object(options);
}

function stringOption(options, name, allowed, fallback) {
  const value = options[name];
  if (value === undefined) return fallback;
  const s = String(value);
  if (allowed && allowed.indexOf(s) < 0) throw new RangeError(`Value ${s} out of range for Intl option "${name}" (one of ${allowed.join(', ')})`);
  return s;
}

function numberOption(options, name, min, max, fallback) {
  const value = options[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n >= min && n <= max)) throw new RangeError(`${name} value is out of range (${min} to ${max})`);
  return Math.floor(n);
}

function refuse(options, names, what) {
  for (const name of names) if (options[name] !== undefined) throw notAvailable(`${what}: the option "${name}"`);
}

// Constructors may be called without new (ECMA-402); format/compare are bound getters.
function boundGetter(proto, name, method) {
  const cache = new WeakMap();
  Object.defineProperty(proto, name, {
    get() {
      let fn = cache.get(this);
      if (!fn) {
        fn = method.bind(this);
        cache.set(this, fn);
      }
      return fn;
    },
    enumerable: false,
    configurable: true,
  });
}

const internal = new WeakMap();
function slots(object, what) {
  const s = internal.get(object);
  if (!s || s.kind !== what) throw new TypeError(`Method Intl.${what}.prototype function called on an incompatible receiver`);
  return s;
}

// --- NumberFormat ----------------------------------------------------------------------------

const CURRENCY_SYMBOLS = {
  USD: '$',
  EUR: '€',
  GBP: '£',
  JPY: '¥',
  CAD: 'CA$',
  AUD: 'A$',
  INR: '₹',
  CNY: 'CN¥',
  KRW: '₩',
  ILS: '₪',
  VND: '₫',
  NZD: 'NZ$',
  MXN: 'MX$',
  BRL: 'R$',
  HKD: 'HK$',
  TWD: 'NT$',
  PHP: '₱',
  XAF: 'FCFA',
  XOF: 'F\u202fCFA',
};
const NARROW = { CAD: '$', AUD: '$', CNY: '¥', NZD: '$', MXN: '$', HKD: '$', TWD: '$' };
const CURRENCY_DIGITS = { JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, UGX: 0, PYG: 0, XAF: 0, XOF: 0, BHD: 3, KWD: 3, JOD: 3, OMR: 3, TND: 3, IQD: 0, LYD: 3 };

function NumberFormat(locales, options) {
  if (!new.target) return new NumberFormat(locales, options);
  const locale = resolveLocale(locales);
  const o = optionsObject(options);
  refuse(
    o,
    ['minimumSignificantDigits', 'maximumSignificantDigits', 'roundingIncrement', 'roundingPriority', 'unit', 'unitDisplay', 'compactDisplay'],
    'Intl.NumberFormat',
  );
  stringOption(o, 'localeMatcher', ['lookup', 'best fit'], 'best fit');
  const numberingSystem = stringOption(o, 'numberingSystem', null, 'latn');
  if (numberingSystem !== 'latn') throw notAvailable(`Intl.NumberFormat: the numbering system "${numberingSystem}"`);
  const style = stringOption(o, 'style', ['decimal', 'percent', 'currency', 'unit'], 'decimal');
  if (style === 'unit') throw notAvailable('Intl.NumberFormat: style "unit"');
  let currency;
  let currencyDisplay;
  if (o.currency !== undefined) {
    currency = String(o.currency);
    if (!/^[a-z]{3}$/i.test(currency)) throw new RangeError(`Invalid currency code: ${currency}`);
    currency = currency.toUpperCase();
  }
  if (style === 'currency') {
    if (currency === undefined) throw new TypeError('Currency code is required with currency style.');
    currencyDisplay = stringOption(o, 'currencyDisplay', ['code', 'symbol', 'narrowSymbol', 'name'], 'symbol');
    if (currencyDisplay === 'name') throw notAvailable('Intl.NumberFormat: currencyDisplay "name"');
    if (stringOption(o, 'currencySign', ['standard', 'accounting'], 'standard') === 'accounting')
      throw notAvailable('Intl.NumberFormat: currencySign "accounting"');
  }
  const notation = stringOption(o, 'notation', ['standard', 'scientific', 'engineering', 'compact'], 'standard');
  if (notation !== 'standard') throw notAvailable(`Intl.NumberFormat: notation "${notation}"`);
  const signDisplay = stringOption(o, 'signDisplay', ['auto', 'never', 'always', 'exceptZero', 'negative'], 'auto');
  if (signDisplay !== 'auto') throw notAvailable(`Intl.NumberFormat: signDisplay "${signDisplay}"`);
  const roundingMode = stringOption(o, 'roundingMode', null, 'halfExpand');
  if (roundingMode !== 'halfExpand') throw notAvailable(`Intl.NumberFormat: roundingMode "${roundingMode}"`);
  const trailingZeroDisplay = stringOption(o, 'trailingZeroDisplay', ['auto', 'stripIfInteger'], 'auto');
  if (trailingZeroDisplay !== 'auto') throw notAvailable(`Intl.NumberFormat: trailingZeroDisplay "${trailingZeroDisplay}"`);

  const minimumIntegerDigits = numberOption(o, 'minimumIntegerDigits', 1, 21, 1);
  const cd = style === 'currency' ? (CURRENCY_DIGITS[currency] ?? 2) : 0;
  const defaultMin = style === 'currency' ? cd : 0;
  const defaultMax = style === 'currency' ? cd : style === 'percent' ? 0 : 3;
  let minimumFractionDigits = numberOption(o, 'minimumFractionDigits', 0, 100, undefined);
  let maximumFractionDigits = numberOption(o, 'maximumFractionDigits', 0, 100, undefined);
  if (minimumFractionDigits === undefined && maximumFractionDigits === undefined) {
    minimumFractionDigits = defaultMin;
    maximumFractionDigits = defaultMax;
  } else if (minimumFractionDigits === undefined) {
    minimumFractionDigits = Math.min(defaultMin, maximumFractionDigits);
  } else if (maximumFractionDigits === undefined) {
    maximumFractionDigits = Math.max(defaultMax, minimumFractionDigits);
  } else if (minimumFractionDigits > maximumFractionDigits) {
    throw new RangeError('maximumFractionDigits value is out of range.');
  }
  const grouping = o.useGrouping;
  const useGrouping =
    grouping === undefined || grouping === 'auto' || grouping === 'always' || grouping === true || grouping === 'true'
      ? 'auto'
      : grouping === 'min2'
        ? 'min2'
        : grouping === false || grouping === 'false'
          ? false
          : 'auto';
  if (useGrouping === 'min2') throw notAvailable('Intl.NumberFormat: useGrouping "min2"');

  internal.set(this, {
    kind: 'NumberFormat',
    resolved: {
      locale,
      numberingSystem: 'latn',
      style,
      ...(style === 'currency' ? { currency, currencyDisplay, currencySign: 'standard' } : {}),
      minimumIntegerDigits,
      minimumFractionDigits,
      maximumFractionDigits,
      useGrouping,
      notation: 'standard',
      signDisplay: 'auto',
      roundingMode: 'halfExpand',
      roundingIncrement: 1,
      trailingZeroDisplay: 'auto',
      roundingPriority: 'auto',
    },
  });
}

// The shortest decimal digits of |x| (what String(x) prints), as an integer and a fraction part,
// so rounding happens on the decimal value people read (1.005 → 1.01), as ICU does.
function decimalParts(value, shift) {
  let text = typeof value === 'bigint' ? String(value < 0n ? -value : value) : String(Math.abs(value));
  let exp = 0;
  const e = text.indexOf('e');
  if (e >= 0) {
    exp = Number(text.slice(e + 1));
    text = text.slice(0, e);
  }
  const dot = text.indexOf('.');
  const digits = dot < 0 ? text : text.slice(0, dot) + text.slice(dot + 1);
  const point = (dot < 0 ? text.length : dot) + exp + shift;
  if (point <= 0) return { int: '0', frac: '0'.repeat(-point) + digits };
  if (point >= digits.length) return { int: digits + '0'.repeat(point - digits.length), frac: '' };
  return { int: digits.slice(0, point), frac: digits.slice(point) };
}

function incrementDecimal(text) {
  const d = text.split('');
  let i = d.length - 1;
  while (i >= 0 && d[i] === '9') d[i--] = '0';
  if (i < 0) d.unshift('1');
  else d[i] = String(Number(d[i]) + 1);
  return d.join('');
}

function numberParts(s, value) {
  const r = s.resolved;
  const parts = [];
  const negative = typeof value === 'bigint' ? value < 0n : value < 0 || Object.is(value, -0);
  if (negative) parts.push({ type: 'minusSign', value: '-' });
  if (r.style === 'currency') {
    const symbol =
      r.currencyDisplay === 'code'
        ? undefined
        : r.currencyDisplay === 'narrowSymbol'
          ? (NARROW[r.currency] ?? CURRENCY_SYMBOLS[r.currency])
          : CURRENCY_SYMBOLS[r.currency];
    parts.push({ type: 'currency', value: symbol ?? r.currency });
    if (symbol === undefined && (typeof value === 'bigint' || Number.isFinite(value))) parts.push({ type: 'literal', value: '\u00a0' });
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    parts.push(Number.isNaN(value) ? { type: 'nan', value: 'NaN' } : { type: 'infinity', value: '∞' });
  } else {
    let { int, frac } = decimalParts(value, r.style === 'percent' ? 2 : 0);
    if (frac.length > r.maximumFractionDigits) {
      const up = frac[r.maximumFractionDigits] >= '5';
      frac = frac.slice(0, r.maximumFractionDigits);
      if (up) {
        const bumped = incrementDecimal(int + frac);
        int = bumped.slice(0, bumped.length - frac.length);
        frac = bumped.slice(bumped.length - frac.length);
      }
    }
    while (frac.length > r.minimumFractionDigits && frac[frac.length - 1] === '0') frac = frac.slice(0, -1);
    while (frac.length < r.minimumFractionDigits) frac += '0';
    int = int.replace(/^0+/, '');
    while (int.length < r.minimumIntegerDigits) int = '0' + int;
    if (r.useGrouping) {
      const first = int.length % 3 || 3;
      parts.push({ type: 'integer', value: int.slice(0, first) });
      for (let i = first; i < int.length; i += 3) parts.push({ type: 'group', value: ',' }, { type: 'integer', value: int.slice(i, i + 3) });
    } else {
      parts.push({ type: 'integer', value: int });
    }
    if (frac.length > 0) parts.push({ type: 'decimal', value: '.' }, { type: 'fraction', value: frac });
  }
  if (r.style === 'percent') parts.push({ type: 'percentSign', value: '%' });
  return parts;
}

function toNumeric(value) {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) && value.trim().replace('-', '').length > 15) return BigInt(value.trim());
  return Number(value);
}

defineMethods(NumberFormat.prototype, {
  formatToParts(value) {
    return numberParts(slots(this, 'NumberFormat'), toNumeric(value));
  },
  resolvedOptions() {
    return { ...slots(this, 'NumberFormat').resolved };
  },
  formatRange() {
    throw notAvailable('Intl.NumberFormat.prototype.formatRange');
  },
});
boundGetter(NumberFormat.prototype, 'format', function format(value) {
  return numberParts(slots(this, 'NumberFormat'), toNumeric(value))
    .map((p) => p.value)
    .join('');
});

// --- DateTimeFormat --------------------------------------------------------------------------

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const UTC_NAMES = ['UTC', 'ETC/UTC', 'ETC/GMT', 'GMT', 'ETC/UCT', 'UCT', 'ETC/ZULU', 'ZULU', 'ETC/UNIVERSAL', 'UNIVERSAL'];
const COMPONENTS = ['weekday', 'year', 'month', 'day', 'hour', 'minute', 'second', 'timeZoneName'];

function DateTimeFormat(locales, options) {
  if (!new.target) return new DateTimeFormat(locales, options);
  const locale = resolveLocale(locales);
  const o = optionsObject(options);
  refuse(o, ['era', 'fractionalSecondDigits', 'dayPeriod'], 'Intl.DateTimeFormat');
  stringOption(o, 'localeMatcher', ['lookup', 'best fit'], 'best fit');
  stringOption(o, 'formatMatcher', ['basic', 'best fit'], 'best fit');
  const calendar = stringOption(o, 'calendar', null, 'gregory');
  if (calendar !== 'gregory' && calendar !== 'iso8601') throw notAvailable(`Intl.DateTimeFormat: the calendar "${calendar}"`);
  const numberingSystem = stringOption(o, 'numberingSystem', null, 'latn');
  if (numberingSystem !== 'latn') throw notAvailable(`Intl.DateTimeFormat: the numbering system "${numberingSystem}"`);
  if (o.timeZone !== undefined && UTC_NAMES.indexOf(String(o.timeZone).toUpperCase()) < 0) {
    throw notAvailable(`Intl.DateTimeFormat: the time zone ${JSON.stringify(String(o.timeZone))} (the guest has no time-zone data; only UTC)`);
  }
  const hour12Option = o.hour12;
  const hourCycle = stringOption(o, 'hourCycle', ['h11', 'h12', 'h23', 'h24'], undefined);
  if (hourCycle === 'h11' || hourCycle === 'h24') throw notAvailable(`Intl.DateTimeFormat: hourCycle "${hourCycle}"`);
  const c = {
    weekday: stringOption(o, 'weekday', ['narrow', 'short', 'long'], undefined),
    year: stringOption(o, 'year', ['2-digit', 'numeric'], undefined),
    month: stringOption(o, 'month', ['2-digit', 'numeric', 'narrow', 'short', 'long'], undefined),
    day: stringOption(o, 'day', ['2-digit', 'numeric'], undefined),
    hour: stringOption(o, 'hour', ['2-digit', 'numeric'], undefined),
    minute: stringOption(o, 'minute', ['2-digit', 'numeric'], undefined),
    second: stringOption(o, 'second', ['2-digit', 'numeric'], undefined),
    timeZoneName: stringOption(o, 'timeZoneName', ['short', 'long', 'shortOffset', 'longOffset', 'shortGeneric', 'longGeneric'], undefined),
  };
  if (c.timeZoneName !== undefined && c.timeZoneName !== 'short' && c.timeZoneName !== 'long')
    throw notAvailable(`Intl.DateTimeFormat: timeZoneName "${c.timeZoneName}"`);
  const dateStyle = stringOption(o, 'dateStyle', ['full', 'long', 'medium', 'short'], undefined);
  const timeStyle = stringOption(o, 'timeStyle', ['full', 'long', 'medium', 'short'], undefined);
  const hasComponent = COMPONENTS.some((k) => c[k] !== undefined);
  if ((dateStyle || timeStyle) && hasComponent)
    throw new TypeError(`Can't set option ${COMPONENTS.find((k) => c[k] !== undefined)} when ${dateStyle ? 'dateStyle' : 'timeStyle'} is used`);
  if (!dateStyle && !timeStyle && !COMPONENTS.slice(0, 7).some((k) => c[k] !== undefined)) {
    c.year = 'numeric';
    c.month = 'numeric';
    c.day = 'numeric';
  }
  const twelve = hour12Option !== undefined ? Boolean(hour12Option) : hourCycle !== undefined ? hourCycle === 'h12' : true;
  const pattern = dateStyle || timeStyle ? stylePattern(dateStyle, timeStyle) : componentPattern(c);
  const resolved = { locale, calendar: 'gregory', numberingSystem: 'latn', timeZone: 'UTC' };
  if (pattern.hasHour) {
    resolved.hourCycle = twelve ? 'h12' : 'h23';
    resolved.hour12 = twelve;
  }
  if (dateStyle || timeStyle) {
    if (dateStyle) resolved.dateStyle = dateStyle;
    if (timeStyle) resolved.timeStyle = timeStyle;
  } else {
    for (const k of COMPONENTS) {
      if (c[k] === undefined) continue;
      // en-US prints minutes and seconds with two digits next to an hour; so does resolvedOptions.
      resolved[k] = (k === 'minute' || k === 'second') && c.hour !== undefined ? '2-digit' : k === 'hour' && !twelve ? '2-digit' : c[k];
    }
  }
  internal.set(this, { kind: 'DateTimeFormat', resolved, pattern, twelve });
}

// A pattern: { date: [...fields], time: [...fields], zone, glue }, each field a [type, style].
function componentPattern(c) {
  const textMonth = c.month === 'long' || c.month === 'short' || c.month === 'narrow';
  const date = [];
  const has = (k) => c[k] !== undefined;
  if (has('year') && has('day') && !has('month')) throw notAvailable('Intl.DateTimeFormat: a year and a day without a month');
  if (has('weekday') && has('year') && !has('month')) throw notAvailable('Intl.DateTimeFormat: a weekday and a year without a month');
  if (has('weekday') && has('day') && !has('month')) throw notAvailable('Intl.DateTimeFormat: a weekday and a day without a month');
  if (has('weekday')) date.push(['weekday', c.weekday], ['literal', has('month') ? ', ' : '']);
  if (textMonth) {
    date.push(['month', c.month]);
    if (has('day')) date.push(['literal', ' '], ['day', c.day]);
    if (has('year')) date.push(['literal', has('day') ? ', ' : ' '], ['year', c.year]);
  } else {
    const numeric = [];
    if (has('month')) numeric.push(['month', c.month]);
    if (has('day')) numeric.push(['day', c.day]);
    if (has('year')) numeric.push(['year', c.year]);
    numeric.forEach((f, i) => date.push(...(i > 0 ? [['literal', '/']] : []), f));
  }
  while (date.length > 0 && date[date.length - 1][0] === 'literal' && date[date.length - 1][1] === '') date.pop();
  const time = [];
  if (has('hour')) {
    time.push(['hour', c.hour]);
    if (has('minute')) time.push(['literal', ':'], ['minute', '2-digit']);
    if (has('second')) time.push(['literal', ':'], ['second', '2-digit']);
  } else if (has('minute') || has('second')) {
    if (has('minute') && has('second')) throw notAvailable('Intl.DateTimeFormat: minutes and seconds without an hour');
    time.push(has('minute') ? ['minute', c.minute] : ['second', c.second]);
  }
  return { date, time, zone: c.timeZoneName, glue: c.month === 'long' ? ' at ' : ', ', hasHour: has('hour') };
}

function stylePattern(dateStyle, timeStyle) {
  const dates = {
    full: [
      ['weekday', 'long'],
      ['literal', ', '],
      ['month', 'long'],
      ['literal', ' '],
      ['day', 'numeric'],
      ['literal', ', '],
      ['year', 'numeric'],
    ],
    long: [
      ['month', 'long'],
      ['literal', ' '],
      ['day', 'numeric'],
      ['literal', ', '],
      ['year', 'numeric'],
    ],
    medium: [
      ['month', 'short'],
      ['literal', ' '],
      ['day', 'numeric'],
      ['literal', ', '],
      ['year', 'numeric'],
    ],
    short: [
      ['month', 'numeric'],
      ['literal', '/'],
      ['day', 'numeric'],
      ['literal', '/'],
      ['year', '2-digit'],
    ],
  };
  const seconds = timeStyle === 'full' || timeStyle === 'long' || timeStyle === 'medium';
  const time = timeStyle
    ? [
        ['hour', 'numeric'],
        ['literal', ':'],
        ['minute', '2-digit'],
        ...(seconds
          ? [
              ['literal', ':'],
              ['second', '2-digit'],
            ]
          : []),
      ]
    : [];
  return {
    date: dateStyle ? dates[dateStyle] : [],
    time,
    zone: timeStyle === 'full' ? 'long' : timeStyle === 'long' ? 'short' : undefined,
    glue: dateStyle === 'full' || dateStyle === 'long' ? ' at ' : ', ',
    hasHour: Boolean(timeStyle),
  };
}

function two(n) {
  return n < 10 ? `0${n}` : String(n);
}

function fieldValue(type, style, d, twelve) {
  switch (type) {
    case 'weekday': {
      const name = WEEKDAYS[d.getUTCDay()];
      return style === 'long' ? name : style === 'short' ? name.slice(0, 3) : name[0];
    }
    case 'year': {
      const y = d.getUTCFullYear();
      return style === '2-digit' ? two(((y % 100) + 100) % 100) : String(y);
    }
    case 'month': {
      const m = d.getUTCMonth();
      if (style === 'numeric') return String(m + 1);
      if (style === '2-digit') return two(m + 1);
      return style === 'long' ? MONTHS[m] : style === 'short' ? MONTHS[m].slice(0, 3) : MONTHS[m][0];
    }
    case 'day':
      return style === '2-digit' ? two(d.getUTCDate()) : String(d.getUTCDate());
    case 'hour': {
      const h = d.getUTCHours();
      if (!twelve) return two(h);
      const h12 = h % 12 || 12;
      return style === '2-digit' ? two(h12) : String(h12);
    }
    case 'minute':
      return style === '2-digit' ? two(d.getUTCMinutes()) : String(d.getUTCMinutes());
    case 'second':
      return style === '2-digit' ? two(d.getUTCSeconds()) : String(d.getUTCSeconds());
  }
  return style;
}

function dateParts(s, date) {
  const x = date === undefined ? Date.now() : date instanceof Date ? date.getTime() : Number(date);
  if (!Number.isFinite(x) || Math.abs(x) > 8.64e15) throw new RangeError('Invalid time value');
  const d = new Date(x);
  const { pattern, twelve } = s;
  const out = (fields) => fields.map(([type, style]) => ({ type, value: fieldValue(type, style, d, twelve) }));
  const time = out(pattern.time);
  // CLDR puts a narrow no-break space before AM/PM; V8's format() prints it as a plain space
  // (web compatibility), its formatToParts() keeps it: both as V8 does.
  if (pattern.hasHour && twelve) time.push({ type: 'literal', value: '\u202f' }, { type: 'dayPeriod', value: d.getUTCHours() < 12 ? 'AM' : 'PM' });
  if (pattern.zone) {
    const zone = { type: 'timeZoneName', value: pattern.zone === 'long' ? 'Coordinated Universal Time' : 'UTC' };
    if (time.length > 0) time.push({ type: 'literal', value: ' ' }, zone);
    else time.push(zone);
  }
  const dateFields = out(pattern.date);
  if (dateFields.length > 0 && time.length > 0) return [...dateFields, { type: 'literal', value: pattern.glue }, ...time];
  return dateFields.length > 0 ? dateFields : time;
}

defineMethods(DateTimeFormat.prototype, {
  formatToParts(date) {
    return dateParts(slots(this, 'DateTimeFormat'), date);
  },
  resolvedOptions() {
    return { ...slots(this, 'DateTimeFormat').resolved };
  },
  formatRange() {
    throw notAvailable('Intl.DateTimeFormat.prototype.formatRange');
  },
  formatRangeToParts() {
    throw notAvailable('Intl.DateTimeFormat.prototype.formatRangeToParts');
  },
});
boundGetter(DateTimeFormat.prototype, 'format', function format(date) {
  return dateParts(slots(this, 'DateTimeFormat'), date)
    .map((p) => p.value)
    .join('')
    .replace(/\u202f/g, ' ');
});

// --- PluralRules (CLDR's English rules) ------------------------------------------------------

function PluralRules(locales, options) {
  if (!new.target) throw new TypeError("Constructor Intl.PluralRules requires 'new'");
  const locale = resolveLocale(locales);
  const o = optionsObject(options);
  refuse(o, ['minimumSignificantDigits', 'maximumSignificantDigits'], 'Intl.PluralRules');
  const type = stringOption(o, 'type', ['cardinal', 'ordinal'], 'cardinal');
  internal.set(this, { kind: 'PluralRules', locale, type });
}

defineMethods(PluralRules.prototype, {
  select(value) {
    const { type } = slots(this, 'PluralRules');
    const n = Number(value);
    if (!Number.isFinite(n)) return 'other';
    if (type === 'cardinal') return Math.abs(n) === 1 ? 'one' : 'other';
    if (!Number.isInteger(n)) return 'other';
    const i = Math.abs(n);
    if (i % 10 === 1 && i % 100 !== 11) return 'one';
    if (i % 10 === 2 && i % 100 !== 12) return 'two';
    if (i % 10 === 3 && i % 100 !== 13) return 'few';
    return 'other';
  },
  resolvedOptions() {
    const { locale, type } = slots(this, 'PluralRules');
    return {
      locale,
      type,
      minimumIntegerDigits: 1,
      minimumFractionDigits: 0,
      maximumFractionDigits: 3,
      pluralCategories: type === 'cardinal' ? ['one', 'other'] : ['few', 'one', 'two', 'other'],
    };
  },
});

// --- Collator --------------------------------------------------------------------------------
// Not the full Unicode Collation Algorithm: letters compare by their base letter first (case and
// accents ignored), then by accents, then by case (lower before upper), as CLDR's root order does;
// digits sort before letters and after spaces and punctuation; `numeric` compares digit runs by
// value. Punctuation and symbols among themselves, and scripts other than Latin, compare by code
// point, which is where this differs from ICU.

function Collator(locales, options) {
  if (!new.target) return new Collator(locales, options);
  const locale = resolveLocale(locales);
  const o = optionsObject(options);
  const usage = stringOption(o, 'usage', ['sort', 'search'], 'sort');
  const sensitivity = stringOption(o, 'sensitivity', ['base', 'accent', 'case', 'variant'], 'variant');
  const ignorePunctuation = Boolean(o.ignorePunctuation);
  const numeric = Boolean(o.numeric);
  const caseFirst = stringOption(o, 'caseFirst', ['upper', 'lower', 'false'], 'false');
  if (caseFirst === 'upper') throw notAvailable('Intl.Collator: caseFirst "upper"');
  internal.set(this, { kind: 'Collator', resolved: { locale, usage, sensitivity, ignorePunctuation, collation: 'default', numeric, caseFirst } });
}

const MARK = /[\u0300-\u036f]/;
// Accents compare in the order of the Unicode collation table (DUCET): acute, grave, breve,
// circumflex, caron, ring, diaeresis, double acute, tilde, dot above; other marks after them.
const MARK_ORDER = '\u0301\u0300\u0306\u0302\u030c\u030a\u0308\u030b\u0303\u0307';
function accentKey(marks) {
  let key = '';
  for (const m of marks) {
    const i = MARK_ORDER.indexOf(m);
    key += String.fromCharCode(i >= 0 ? 0x100 + i : 0x1000 + m.charCodeAt(0));
  }
  return key;
}
// Built at run time: a \p{…} literal would be rewritten by the prelude's bundler.
const LETTER = /\p{L}/u;

// One key per character: [primary class, primary text, accents, case].
function collationKeys(text, numeric, ignorePunctuation) {
  const keys = [];
  const chars = Array.from(String(text).normalize('NFD'));
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (MARK.test(ch)) {
      if (keys.length > 0) keys[keys.length - 1].accents += ch;
      continue;
    }
    const lower = ch.toLowerCase();
    if (/[0-9]/.test(ch)) {
      if (numeric) {
        let run = ch;
        while (i + 1 < chars.length && /[0-9]/.test(chars[i + 1])) run += chars[++i];
        keys.push({ rank: 2, primary: run.replace(/^0+(?=\d)/, ''), numeric: true, accents: '', upper: false });
      } else keys.push({ rank: 2, primary: ch, accents: '', upper: false });
    } else if (lower !== ch.toUpperCase() || LETTER.test(ch)) {
      keys.push({ rank: 3, primary: lower, accents: '', upper: ch !== lower });
    } else if (/\s/.test(ch)) {
      if (!ignorePunctuation) keys.push({ rank: 0, primary: ch, accents: '', upper: false });
    } else if (!ignorePunctuation) {
      keys.push({ rank: 1, primary: ch, accents: '', upper: false });
    }
  }
  return keys;
}

function comparePrimary(a, b) {
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.numeric && b.numeric && a.primary.length !== b.primary.length) return a.primary.length - b.primary.length;
  return a.primary < b.primary ? -1 : a.primary > b.primary ? 1 : 0;
}

function compareStrings(s, x, y) {
  const { sensitivity, numeric, ignorePunctuation } = s.resolved;
  const a = collationKeys(x, numeric, ignorePunctuation);
  const b = collationKeys(y, numeric, ignorePunctuation);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = comparePrimary(a[i], b[i]);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  if (sensitivity === 'accent' || sensitivity === 'variant') {
    for (let i = 0; i < n; i++) {
      if (a[i].accents === b[i].accents) continue;
      return accentKey(a[i].accents) < accentKey(b[i].accents) ? -1 : 1;
    }
  }
  if (sensitivity === 'case' || sensitivity === 'variant') {
    for (let i = 0; i < n; i++) if (a[i].upper !== b[i].upper) return a[i].upper ? 1 : -1;
  }
  return 0;
}

defineMethods(Collator.prototype, {
  resolvedOptions() {
    return { ...slots(this, 'Collator').resolved };
  },
});
boundGetter(Collator.prototype, 'compare', function compare(x, y) {
  return compareStrings(slots(this, 'Collator'), x, y);
});

// --- Intl ------------------------------------------------------------------------------------

const Intl = {};
for (const [name, ctor] of [
  ['NumberFormat', NumberFormat],
  ['DateTimeFormat', DateTimeFormat],
  ['PluralRules', PluralRules],
  ['Collator', Collator],
]) {
  defineMethods(ctor, {
    supportedLocalesOf(locales) {
      return supportedLocalesOf(locales);
    },
  });
  setToStringTag(ctor.prototype, `Intl.${name}`);
  Object.defineProperty(Intl, name, { value: ctor, writable: true, enumerable: false, configurable: true });
}
defineMethods(Intl, {
  getCanonicalLocales(locales) {
    return canonicalList(locales);
  },
  supportedValuesOf(key) {
    const values = {
      calendar: ['gregory'],
      collation: ['default'],
      currency: Object.keys(CURRENCY_SYMBOLS).sort(),
      numberingSystem: ['latn'],
      timeZone: ['UTC'],
      unit: [],
    };
    if (!Object.prototype.hasOwnProperty.call(values, key)) throw new RangeError(`Invalid key : ${key}`);
    return values[key].slice();
  },
});
setToStringTag(Intl, 'Intl');
defineGlobal('Intl', Intl);
