// console.js — console, captured into the invocation's log buffer instead of printed.
//
// Each entry is { level, message, ms } with ms since the invocation started. The buffer holds at
// most LOG_LIMIT_BYTES of message text (UTF-8); past that one "[logs truncated]" entry is added and
// the rest of the invocation's logs are dropped, so a chatty function cannot flood the host.

import {
  native,
  defineGlobal,
  defineMethods,
  setToStringTag,
  sinceStartMs,
  typedArrayKind,
  utf8Length,
  truncateUtf8,
  errorParts,
  formatError,
} from './internal.js';
import { Headers } from './headers.js';
import { URLSearchParams, URL } from './url.js';
import { Request, Response } from './body.js';

const LOG_LIMIT_BYTES = 256 * 1024;
// `marker` is the "[logs truncated …]" entry; `dropped` counts the lines it stands for, so the
// owner reads how many were lost (the host adds what it drops itself: registry/src/logs.ts).
export const logBuffer = { entries: [], bytes: 0, truncated: false, marker: null, dropped: 0 };

export function resetLogs() {
  if (logBuffer.entries.length === 0 && !logBuffer.truncated) return; // nothing logged: keep the empty array
  logBuffer.entries = [];
  logBuffer.bytes = 0;
  logBuffer.truncated = false;
  logBuffer.marker = null;
  logBuffer.dropped = 0;
}

/** The invocation's entries, the truncation marker completed with its count; the buffer stays. */
export function finishedLogs() {
  if (logBuffer.marker !== null) logBuffer.marker.message = `[logs truncated: ${logBuffer.dropped} more line(s) dropped]`;
  return logBuffer.entries;
}

export function takeLogs() {
  const entries = finishedLogs();
  resetLogs();
  return entries;
}

function pushLog(level, message) {
  if (logBuffer.truncated) {
    logBuffer.dropped++;
    return;
  }
  const ms = sinceStartMs();
  const room = LOG_LIMIT_BYTES - logBuffer.bytes;
  // Every UTF-16 unit is at least one byte, so a longer string cannot fit: skip measuring it.
  const size = message.length > room ? room + 1 : utf8Length(message);
  if (size <= room) {
    logBuffer.entries.push({ level, message, ms });
    logBuffer.bytes += size;
    return;
  }
  if (room > 0) logBuffer.entries.push({ level, message: truncateUtf8(message.slice(0, room), room), ms });
  else logBuffer.dropped++;
  logBuffer.marker = { level: 'warn', message: '[logs truncated]', ms };
  logBuffer.entries.push(logBuffer.marker);
  logBuffer.bytes = LOG_LIMIT_BYTES;
  logBuffer.truncated = true;
}

// ---- inspect: a small, safe relative of Node's util.inspect ------------------------------------

const INSPECT_MAX_ITEMS = 100;
const INSPECT_LINE_WIDTH = 72;

function quoteString(s) {
  const q = s.indexOf("'") >= 0 && s.indexOf('"') < 0 ? '"' : "'";
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const c = s.charCodeAt(i);
    if (ch === q || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
    else out += ch;
  }
  return q + out + q;
}

function formatKey(key) {
  if (typeof key === 'symbol') return '[' + key.toString() + ']';
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : quoteString(key);
}

function constructorName(value) {
  try {
    const proto = Object.getPrototypeOf(value);
    if (proto === null) return null;
    const ctor = proto.constructor;
    return typeof ctor === 'function' && typeof ctor.name === 'string' ? ctor.name : '';
  } catch (e) {
    return '';
  }
}

function formatNumber(n) {
  return Object.is(n, -0) ? '-0' : String(n);
}

function formatPrimitive(value, nested) {
  switch (typeof value) {
    case 'string':
      return nested ? quoteString(value) : value;
    case 'number':
      return formatNumber(value);
    case 'bigint':
      return String(value) + 'n';
    case 'symbol':
      return value.toString();
    default:
      return String(value);
  }
}

export function formatFunction(fn) {
  let source = '';
  try {
    source = Function.prototype.toString.call(fn);
  } catch (e) {
    source = '';
  }
  const name = typeof fn.name === 'string' && fn.name ? fn.name : '';
  if (/^class[\s{]/.test(source)) return name ? `[class ${name}]` : '[class (anonymous)]';
  return name ? `[Function: ${name}]` : '[Function (anonymous)]';
}

// Joins the parts on one line when short, otherwise one per line, indented.
function wrapParts(open, parts, close, indent) {
  if (parts.length === 0) return open + close;
  const oneLine = `${open} ${parts.join(', ')} ${close}`;
  if (oneLine.length <= INSPECT_LINE_WIDTH && oneLine.indexOf('\n') < 0) return oneLine;
  const pad = '  '.repeat(indent + 1);
  return `${open}\n${parts.map((p) => pad + p).join(',\n')}\n${'  '.repeat(indent)}${close}`;
}

// Own enumerable properties, read through descriptors so getters are never run.
function propertyParts(value, depth, seen, indent, skipIndices) {
  const parts = [];
  const keys = Object.keys(value);
  for (const key of keys) {
    if (skipIndices && /^(0|[1-9]\d*)$/.test(key)) continue;
    parts.push(`${formatKey(key)}: ${formatDescriptor(Object.getOwnPropertyDescriptor(value, key), depth, seen, indent)}`);
  }
  for (const sym of Object.getOwnPropertySymbols(value)) {
    const desc = Object.getOwnPropertyDescriptor(value, sym);
    if (desc && desc.enumerable) parts.push(`${formatKey(sym)}: ${formatDescriptor(desc, depth, seen, indent)}`);
  }
  return parts;
}

function formatDescriptor(desc, depth, seen, indent) {
  if (desc === undefined) return 'undefined';
  if ('value' in desc) return formatValue(desc.value, depth, seen, indent + 1, true);
  if (desc.get && desc.set) return '[Getter/Setter]';
  return desc.get ? '[Getter]' : '[Setter]';
}

function formatValue(value, depth, seen, indent, nested) {
  if (typeof value === 'function') return formatFunction(value);
  if (value === null || typeof value !== 'object') return formatPrimitive(value, nested);
  if (seen.indexOf(value) >= 0) return '[Circular]';
  seen.push(value);
  try {
    return formatObject(value, depth, seen, indent);
  } finally {
    seen.pop();
  }
}

function formatObject(value, depth, seen, indent) {
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  const name = constructorName(value);
  const prefix = name === null ? '[Object: null prototype] ' : name && name !== 'Object' ? name + ' ' : '';
  const child = (v) => formatValue(v, depth - 1, seen, indent + 1, true);

  if (value instanceof Error || tag === 'Error') {
    return indent === 0 ? formatError(value) : `[${formatError(value).split('\n')[0]}]`;
  }
  if (tag === 'Date') return isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (tag === 'RegExp') return RegExp.prototype.toString.call(value);
  if (tag === 'Promise') return 'Promise { <unknown> }';
  if (tag === 'WeakMap' || tag === 'WeakSet') return `${tag} { <items unknown> }`;
  if (tag === 'String' || tag === 'Number' || tag === 'Boolean' || tag === 'BigInt' || tag === 'Symbol') {
    return `[${tag}: ${formatPrimitive(value.valueOf(), true)}]`;
  }
  if (tag === 'ArrayBuffer') return `ArrayBuffer { byteLength: ${value.byteLength} }`;
  if (value instanceof URL) return `URL { href: ${quoteString(value.href)} }`;
  if (value instanceof Headers || value instanceof URLSearchParams) {
    if (depth < 0) return `[${tag}]`;
    const parts = [];
    value.forEach((v, k) => parts.push(`${quoteString(k)} => ${quoteString(v)}`));
    return wrapParts(tag + ' {', parts, '}', indent);
  }
  if (value instanceof Request) {
    return `Request { method: ${quoteString(value.method)}, url: ${quoteString(value.url)} }`;
  }
  if (value instanceof Response) {
    return `Response { status: ${value.status}, statusText: ${quoteString(value.statusText)} }`;
  }
  if (depth < 0) return Array.isArray(value) ? '[Array]' : `[${name || 'Object'}]`;

  if (Array.isArray(value) || typedArrayKind(value) !== undefined) {
    const kind = typedArrayKind(value);
    const parts = [];
    const n = value.length;
    const shown = Math.min(n, INSPECT_MAX_ITEMS);
    for (let i = 0; i < shown; i++) {
      if (kind !== undefined) parts.push(typeof value[i] === 'bigint' ? value[i] + 'n' : formatNumber(value[i]));
      else if (!(i in value)) parts.push('<empty>');
      else parts.push(formatDescriptor(Object.getOwnPropertyDescriptor(value, i), depth - 1, seen, indent));
    }
    if (n > shown) parts.push(`... ${n - shown} more item${n - shown === 1 ? '' : 's'}`);
    if (kind === undefined) for (const p of propertyParts(value, depth - 1, seen, indent, true)) parts.push(p);
    const head = kind !== undefined ? `${kind}(${n}) ` : name && name !== 'Array' ? `${name}(${n}) ` : '';
    return head + wrapParts('[', parts, ']', indent);
  }
  if (tag === 'Map') {
    const parts = [];
    for (const entry of value) {
      if (parts.length >= INSPECT_MAX_ITEMS) {
        parts.push(`... ${value.size - INSPECT_MAX_ITEMS} more items`);
        break;
      }
      parts.push(`${child(entry[0])} => ${child(entry[1])}`);
    }
    return wrapParts(`Map(${value.size}) {`, parts, '}', indent);
  }
  if (tag === 'Set') {
    const parts = [];
    for (const item of value) {
      if (parts.length >= INSPECT_MAX_ITEMS) {
        parts.push(`... ${value.size - INSPECT_MAX_ITEMS} more items`);
        break;
      }
      parts.push(child(item));
    }
    return wrapParts(`Set(${value.size}) {`, parts, '}', indent);
  }
  return prefix + wrapParts('{', propertyParts(value, depth - 1, seen, indent, false), '}', indent);
}

function inspect(value, depth = 2) {
  try {
    return formatValue(value, depth, [], 0, false);
  } catch (e) {
    return '[object could not be inspected: ' + errorParts(e).message + ']';
  }
}

// ---- format: printf-style substitutions like Node and browsers ----------------------------------

function formatArgs(args) {
  if (args.length === 0) return '';
  const first = args[0];
  let i = 1;
  let out;
  if (typeof first === 'string' && args.length > 1 && first.indexOf('%') >= 0) {
    out = first.replace(/%([sdifjoOc%])/g, (match, f) => {
      if (f === '%') return '%';
      if (i >= args.length) return match;
      const a = args[i++];
      switch (f) {
        case 's':
          return typeof a === 'object' && a !== null ? inspect(a, 1) : formatPrimitive(a, false);
        case 'd':
          return typeof a === 'bigint' ? a + 'n' : typeof a === 'symbol' ? 'NaN' : formatNumber(Number(a));
        case 'i':
          return typeof a === 'bigint' ? a + 'n' : typeof a === 'symbol' ? 'NaN' : formatNumber(parseInt(a, 10));
        case 'f':
          return typeof a === 'symbol' ? 'NaN' : formatNumber(parseFloat(a));
        case 'j':
          try {
            return JSON.stringify(a);
          } catch (e) {
            return '[Circular]';
          }
        case 'o':
          return inspect(a, 4);
        case 'O':
          return inspect(a, 2);
        default: // %c: CSS has no meaning here
          return '';
      }
    });
  } else {
    out = typeof first === 'string' ? first : inspect(first);
  }
  for (; i < args.length; i++) out += ' ' + (typeof args[i] === 'string' ? args[i] : inspect(args[i]));
  return out;
}

// ---- the console object -----------------------------------------------------------------------

let groupIndent = '';
const counters = new Map();
const timersByLabel = new Map();

function writeLog(level, message) {
  pushLog(level, groupIndent === '' ? message : groupIndent + message.split('\n').join('\n' + groupIndent));
}

// The frames of the caller, without the frames of console itself.
function callerStack() {
  const stack = new Error().stack;
  if (typeof stack !== 'string') return '';
  const lines = stack.split('\n').filter((line) => /^\s*at /.test(line));
  return lines.slice(2).join('\n');
}

const consoleObject = {};
defineMethods(consoleObject, {
  log(...args) {
    writeLog('log', formatArgs(args));
  },
  info(...args) {
    writeLog('info', formatArgs(args));
  },
  warn(...args) {
    writeLog('warn', formatArgs(args));
  },
  error(...args) {
    writeLog('error', formatArgs(args));
  },
  debug(...args) {
    writeLog('debug', formatArgs(args));
  },
  trace(...args) {
    const message = formatArgs(args);
    const stack = callerStack();
    writeLog('trace', 'Trace' + (message ? ': ' + message : '') + (stack ? '\n' + stack : ''));
  },
  dir(value) {
    writeLog('log', inspect(value));
  },
  table(...args) {
    writeLog('log', formatArgs(args));
  },
  assert(condition, ...args) {
    if (condition) return;
    const message = formatArgs(args);
    writeLog('error', 'Assertion failed' + (message ? ': ' + message : ''));
  },
  count(label = 'default') {
    const key = String(label);
    const n = (counters.get(key) || 0) + 1;
    counters.set(key, n);
    writeLog('info', `${key}: ${n}`);
  },
  countReset(label = 'default') {
    counters.delete(String(label));
  },
  time(label = 'default') {
    timersByLabel.set(String(label), native.now());
  },
  timeLog(label = 'default', ...args) {
    const key = String(label);
    const start = timersByLabel.get(key);
    if (start === undefined) return writeLog('warn', `No such label '${key}' for console.timeLog()`);
    const extra = args.length ? ' ' + formatArgs(args) : '';
    writeLog('info', `${key}: ${(native.now() - start).toFixed(3)}ms${extra}`);
  },
  timeEnd(label = 'default') {
    const key = String(label);
    const start = timersByLabel.get(key);
    if (start === undefined) return writeLog('warn', `No such label '${key}' for console.timeEnd()`);
    timersByLabel.delete(key);
    writeLog('info', `${key}: ${(native.now() - start).toFixed(3)}ms`);
  },
  group(...args) {
    if (args.length) writeLog('log', formatArgs(args));
    groupIndent += '  ';
  },
  groupCollapsed(...args) {
    if (args.length) writeLog('log', formatArgs(args));
    groupIndent += '  ';
  },
  groupEnd() {
    groupIndent = groupIndent.slice(2);
  },
});
setToStringTag(consoleObject, 'console');

// console state that must not leak from one invocation into the next.
export function resetConsoleState() {
  groupIndent = '';
  if (counters.size > 0) counters.clear();
  if (timersByLabel.size > 0) timersByLabel.clear();
}

// An error nobody caught (timer callbacks, queueMicrotask, failed waitUntil promises).
export function reportUncaught(err, where) {
  pushLog('error', `Uncaught (in ${where}) ${formatError(err)}`);
}

defineGlobal('console', consoleObject);
