// dispatch.js — globalThis.__fn_hooks, the entry points the C runtime calls.
//
//   setModule(ns, metaJson)  after the user module evaluated: find its handler, keep name/env/memory
//   invoke(metaJson, body)   one invocation → Promise<{ meta: string, body: ArrayBuffer|Uint8Array|null }>
//   nextTimer()              unix ms of the earliest pending timer, or -1
//   runTimers()              run the timers that are due
//   failure(name, message, stack)  output meta for an invocation the runtime had to abandon
//
// invoke() throws synchronously (a TypeError) only when metaJson is not valid JSON; otherwise its
// promise always resolves, with status 500 and an "error" member when the handler failed.

import {
  native,
  nativeInfo,
  defineGlobal,
  defineMethods,
  setToStringTag,
  clock,
  isObjectLike,
  describeValue,
  bytesView,
  utf8Encode,
  errorParts,
  formatError,
  intrinsics,
} from './internal.js';
import { headersInternals, Headers, iteratesAsSortedList } from './headers.js';
import { URL } from './url.js';
import { TEXT_PLAIN, createIncomingRequest, Response, responseBodyBytes } from './body.js';
import { logBuffer, resetLogs, takeLogs, finishedLogs, resetConsoleState, reportUncaught } from './console.js';
import { nextTimerAt, runDueTimers, clearAllTimers } from './timers.js';
import { setOwn, buildLambdaEvent, buildLambdaContext, callLambdaHandler, lambdaResultToResponse } from './lambda.js';

export const loaded = { mode: null, target: null, handler: null, name: '', memoryMiB: 128, platform: null, env: Object.freeze({}) };

// The invocation in progress: { id, done, waitUntil: [] } — or null between invocations.
let currentInvocation = null;

const EXPORT_HINT =
  'export `default { async fetch(request, env, ctx) { return new Response("...") } }` ' + 'or `async function handler(event, context) { ... }`';

function parseJsonArgument(json, what) {
  let value;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new TypeError(`${what}: the metadata is not valid JSON (${errorParts(e).message})`);
  }
  if (value === null || typeof value !== 'object') throw new TypeError(`${what}: the metadata must be a JSON object`);
  return value;
}

function setModule(ns, metaJson) {
  const meta = parseJsonArgument(metaJson, 'setModule');
  const def = isObjectLike(ns) ? ns.default : undefined;
  if (isObjectLike(def) && typeof def.fetch === 'function') {
    loaded.mode = 'fetch';
    loaded.target = def;
    loaded.handler = def.fetch;
  } else if (isObjectLike(ns) && typeof ns.handler === 'function') {
    loaded.mode = 'lambda';
    loaded.target = undefined;
    loaded.handler = ns.handler;
  } else if (isObjectLike(def) && typeof def.handler === 'function') {
    // A CommonJS Lambda bundled to ESM by esbuild: `exports.handler` ends up on the default export.
    loaded.mode = 'lambda';
    loaded.target = def;
    loaded.handler = def.handler;
  } else {
    throw new TypeError(`the module exports neither a default object with fetch() nor a handler() function: ${EXPORT_HINT}`);
  }
  loaded.name = typeof meta.name === 'string' ? meta.name : '';
  loaded.memoryMiB = typeof meta.memoryMiB === 'number' ? meta.memoryMiB : 128;
  loaded.platform = typeof meta.platform === 'string' ? meta.platform : null;
  loaded.env = frozenEnv(meta.env, null);
}

// The env a handler sees: the load-time env, overlaid by the invocation's own env when the host
// sends one. Per-invocation env keeps secrets out of snapshots and lets env changes apply at once.
function frozenEnv(values, base) {
  const env = {};
  if (base !== null) for (const key of Object.keys(base)) setOwn(env, key, base[key]);
  if (isObjectLike(values)) for (const key of Object.keys(values)) setOwn(env, key, String(values[key]));
  return Object.freeze(env);
}

function invocationEnv(meta) {
  return isObjectLike(meta.env) ? frozenEnv(meta.env, loaded.env) : loaded.env;
}

// An error's parts as strings, whatever the error and whatever the function did to the built-ins
// errorParts and formatError use (String.prototype.replace, indexOf, …).
function describedError(err) {
  try {
    const p = errorParts(err);
    return { name: p.name, message: p.message, stack: formatError(err) };
  } catch (e) {
    return {
      name: 'Error',
      message: 'the function failed, and its error cannot be described: it replaced built-ins the runtime reads errors with',
      stack: '',
    };
  }
}

// The standard error body and meta for a failed invocation, written by hand with the intrinsics
// (internal.js): JSON.stringify of an object would consult a poisoned Object.prototype.toJSON.
function errorOutput(err, logs) {
  const p = describedError(err);
  const name = intrinsics.jsonString(p.name);
  const message = intrinsics.jsonString(p.message);
  const body = utf8Encode(`{"error":{"name":${name},"message":${message}}}`);
  const meta = `{"status":500,"headers":[["content-type","application/json"]],"logs":${logsJson(logs)},"error":{"name":${name},"message":${message},"stack":${intrinsics.jsonString(p.stack)}}}`;
  return { meta, body };
}

// JSON.stringify has a large fixed cost in QuickJS, so the usual meta is written by hand. Header
// names in a Headers list are tokens, which never need escaping; values only when they contain a
// quote, a backslash or a control character (they are Latin1, so nothing else). The content types
// the prelude itself sets are known not to, which spares the check for the commonest responses.
const JSON_NEEDS_ESCAPE = /["\\\x00-\x1f]/;
const JSON_SAFE_VALUES = new Set([TEXT_PLAIN, 'application/json', 'application/x-www-form-urlencoded;charset=UTF-8']);

function headerPairsJson(pairs) {
  let out = '';
  for (let i = 0; i < pairs.length; i++) {
    const value = pairs[i][1];
    const quoted = !intrinsics.setHas(JSON_SAFE_VALUES, value) && intrinsics.matches(JSON_NEEDS_ESCAPE, value) ? intrinsics.jsonString(value) : `"${value}"`;
    out += `${i === 0 ? '' : ','}["${pairs[i][0]}",${quoted}]`;
  }
  return `[${out}]`;
}

// Log entries come from pushLog only: a level from a fixed set of plain words, a string message and
// a finite number of milliseconds, so only the message needs escaping.
function logsJson(logs) {
  let out = '';
  for (let i = 0; i < logs.length; i++) {
    const entry = logs[i];
    out += `${i === 0 ? '' : ','}{"level":"${entry.level}","message":${intrinsics.jsonString(entry.message)},"ms":${entry.ms}}`;
  }
  return `[${out}]`;
}

function responseOutput(response, logs) {
  if (response.type === 'error') throw new TypeError('the handler returned Response.error(), which has no HTTP status to send');
  const bytes = responseBodyBytes(response);
  const status = response.status;
  const headers = response.headers;
  if (!intrinsics.isInteger(status)) throw new TypeError(`the response's status is not an integer (${describeValue(status)})`);
  // What iterating the headers gives, without an iterator and a copy of each pair. The getters are
  // public (user code could replace them), so anything unusual goes the general way.
  let headersJson;
  if (headers instanceof Headers && iteratesAsSortedList(headers, headers[Symbol.iterator])) {
    headersJson = headerPairsJson(headersInternals.sorted(headers));
  } else {
    let out = '';
    for (const p of headers) out += `${out === '' ? '' : ','}[${intrinsics.jsonString(`${p[0]}`)},${intrinsics.jsonString(`${p[1]}`)}]`;
    headersJson = `[${out}]`;
  }
  return { meta: `{"status":${status},"headers":${headersJson},"logs":${logsJson(logs)}}`, body: bytes };
}

function beginInvocation(meta) {
  clearAllTimers();
  resetLogs();
  resetConsoleState();
  clock.startMs = native.now();
  const invocation = {
    id: typeof meta.invocationId === 'string' ? meta.invocationId : '',
    // W3C traceparent of the VM's span (the host checked its form); '' when the invocation is not traced.
    traceparent: typeof meta.traceparent === 'string' ? meta.traceparent : '',
    deadlineMs: typeof meta.deadlineMs === 'number' ? meta.deadlineMs : Infinity,
    done: false,
    waitUntil: [],
    env: invocationEnv(meta),
  };
  currentInvocation = invocation;
  return invocation;
}

function endInvocation(invocation) {
  invocation.done = true;
  if (currentInvocation === invocation) {
    currentInvocation = null;
    clearAllTimers(); // leftover timers never outlive their invocation
  }
}

// waitUntil() promises may register more of them; wait until none are left.
async function drainWaitUntil(invocation) {
  while (invocation.waitUntil.length > 0) {
    const batch = invocation.waitUntil;
    invocation.waitUntil = [];
    await Promise.all(batch);
  }
}

function reportWaitUntilFailure(e) {
  reportUncaught(e, 'waitUntil');
}

// ctx.passThroughOnException: nothing to pass through to, there is no origin behind an fn function.
// The same function for every invocation, since it needs no state.
const passThroughOnException = { passThroughOnException() {} }.passThroughOnException;

// Reused descriptors: ctx is made for every invocation, so its three properties are defined without
// building descriptor objects each time.
const METHOD_DESCRIPTOR = { value: undefined, writable: true, enumerable: false, configurable: true };
const ID_DESCRIPTOR = { value: '', writable: false, enumerable: true, configurable: false };

function makeFetchContext(invocation) {
  const ctx = {};
  // waitUntil closes over its invocation, so it works detached and is ignored once that one is over.
  METHOD_DESCRIPTOR.value = {
    waitUntil(promise) {
      if (invocation.done) return; // too late: the invocation has been answered
      invocation.waitUntil.push(Promise.resolve(promise).then(undefined, reportWaitUntilFailure));
    },
  }.waitUntil;
  Object.defineProperty(ctx, 'waitUntil', METHOD_DESCRIPTOR);
  METHOD_DESCRIPTOR.value = passThroughOnException;
  Object.defineProperty(ctx, 'passThroughOnException', METHOD_DESCRIPTOR);
  METHOD_DESCRIPTOR.value = undefined;
  ID_DESCRIPTOR.value = invocation.id;
  Object.defineProperty(ctx, 'invocationId', ID_DESCRIPTOR);
  ID_DESCRIPTOR.value = invocation.traceparent;
  Object.defineProperty(ctx, 'traceparent', ID_DESCRIPTOR);
  // The trace id alone (characters 3–34 of a version-00 traceparent), to put in the function's own logs.
  ID_DESCRIPTOR.value = invocation.traceparent.slice(3, 35);
  Object.defineProperty(ctx, 'traceId', ID_DESCRIPTOR);
  return ctx;
}

async function runHandler(meta, bytes, invocation) {
  const method = typeof meta.method === 'string' ? meta.method : 'GET';
  const url = typeof meta.url === 'string' ? meta.url : '';
  const headerPairs = Array.isArray(meta.headers) ? meta.headers : [];
  if (loaded.mode === 'fetch') {
    const request = createIncomingRequest(method, url, headerPairs, bytes); // skips what is not a pair
    const result = await loaded.handler.call(loaded.target, request, invocation.env, makeFetchContext(invocation));
    if (!(result instanceof Response)) {
      throw new TypeError(
        `fetch() must return a Response (or a Promise of one), but it returned ${describeValue(result)}; ` +
          'return new Response(body, { status, headers }) or Response.json(data)',
      );
    }
    return result;
  }
  if (loaded.mode === 'lambda') {
    const parsed = URL.parse(url);
    if (parsed === null) throw new TypeError(`the runtime passed an invalid request URL ${JSON.stringify(url)}`);
    const pairs = headerPairs.filter((p) => Array.isArray(p) && p.length === 2);
    const event = buildLambdaEvent({ method, url: parsed, headerPairs: pairs, bytes, invocationId: invocation.id, startMs: clock.startMs });
    const context = buildLambdaContext(loaded, invocation);
    return lambdaResultToResponse(await callLambdaHandler(loaded.handler, loaded.target, event, context));
  }
  throw new TypeError('no function module is loaded (setModule was not called)');
}

async function finishInvocation(meta, bytes, invocation) {
  let response = null;
  let failed = null;
  try {
    response = await runHandler(meta, bytes, invocation);
  } catch (e) {
    failed = { error: e };
  }
  // Never rejects: each promise reports its own error. With nothing to wait for this is still one
  // await, so handlers see the same number of microtask turns before the response is taken.
  await (invocation.waitUntil.length === 0 ? undefined : drainWaitUntil(invocation));
  // An invocation abandoned through failure() no longer owns the log buffer or the timers.
  const logs = invocation.done ? [] : finishedLogs();
  let output;
  try {
    output = failed === null ? responseOutput(response, logs) : errorOutput(failed.error, logs);
  } catch (e) {
    output = errorOutput(e, logs);
  }
  if (!invocation.done) {
    endInvocation(invocation);
    resetLogs();
  }
  return output;
}

function invoke(metaJson, body) {
  const meta = parseJsonArgument(metaJson, 'invoke');
  // The runtime passes an ArrayBuffer (checked first: bytesView's test for one is slower).
  const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : body === null || body === undefined ? new Uint8Array(0) : bytesView(body);
  if (bytes === null) throw new TypeError('invoke: the body must be an ArrayBuffer, a Uint8Array or null');
  return finishInvocation(meta, bytes, beginInvocation(meta));
}

function failure(name, message, stack) {
  const logs = takeLogs();
  if (currentInvocation !== null) endInvocation(currentInvocation);
  const err = `{"name":${intrinsics.jsonString(`${name}`)},"message":${intrinsics.jsonString(`${message}`)},"stack":${intrinsics.jsonString(stack === undefined || stack === null ? '' : `${stack}`)}}`;
  return `{"status":500,"headers":[["content-type","application/json"]],"logs":${logsJson(logs)},"error":${err}}`;
}

const hooks = {};
defineMethods(hooks, {
  setModule,
  invoke,
  nextTimer: nextTimerAt,
  runTimers: runDueTimers,
  failure,
});
Object.freeze(hooks);
// Not writable or configurable: user code cannot swap the entry points of its own runtime.
Object.defineProperty(globalThis, '__fn_hooks', { value: hooks, writable: false, enumerable: false, configurable: false });

// The env of the invocation that is running (the load-time env outside one), for the bundled
// `process.env` of the Node compatibility layer (cli/node-compat/process.js). A registered symbol,
// so it takes no global name; a function, so it is read at the moment of use.
Object.defineProperty(globalThis, Symbol.for('fn.invocationEnv'), {
  value: () => (currentInvocation !== null ? currentInvocation.env : loaded.env),
  writable: false,
  enumerable: false,
  configurable: false,
});

// Nice-to-haves many libraries probe for.
defineGlobal('self', globalThis);
const navigatorObject = {};
Object.defineProperty(navigatorObject, 'userAgent', {
  value: `${nativeInfo.runtime || 'fn'}/${nativeInfo.version || '0'}`,
  enumerable: true,
});
setToStringTag(navigatorObject, 'Navigator');
defineGlobal('navigator', navigatorObject);
