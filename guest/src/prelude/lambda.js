// lambda.js — the Lambda-style adapter: `export async function handler(event, context)`.
//
// The event is an API Gateway HTTP API event (payload format 2.0) and the result is mapped back the
// way API Gateway maps it, so handlers written for Lambda behind an HTTP API run unchanged:
//   - an object with `statusCode`: status, `headers`, `cookies` (each becomes a set-cookie header),
//     `body` (base64-decoded when `isBase64Encoded`); `multiValueHeaders` is honoured too;
//   - a string: 200, text/plain, the string as the body (simpler than API Gateway's guessing);
//   - undefined: 200 with an empty body;
//   - anything else: 200, application/json, JSON.stringify(result).
// A Response object is accepted as well, for handlers that already speak fetch.

import { native, utf8Encode, utf8Decode, base64Encode, base64Decode } from './internal.js';
import { Headers } from './headers.js';
import { NULL_BODY_STATUSES, Response } from './body.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n) {
  return (n < 10 ? '0' : '') + n;
}

// API Gateway's requestContext.time format: "12/Mar/2020:19:03:58 +0000".
function apiGatewayTime(ms) {
  const d = new Date(ms);
  return (
    `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`
  );
}

// Keys come from the request (header names, query names): define them so that a name such as
// "__proto__" becomes a plain property instead of changing the object's prototype.
export function setOwn(object, key, value) {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

function joinInto(object, key, value) {
  if (Object.prototype.hasOwnProperty.call(object, key)) object[key] += ',' + value;
  else setOwn(object, key, value);
}

// invocation: { method, url (a URL), headerPairs, bytes, invocationId, startMs }
export function buildLambdaEvent(invocation) {
  const url = invocation.url;
  const headers = {};
  const cookies = [];
  for (const pair of invocation.headerPairs) {
    const name = String(pair[0]).toLowerCase();
    const value = String(pair[1]);
    if (name === 'cookie') {
      // Like API Gateway v2: cookies move to event.cookies and leave the headers.
      for (const c of value.split(';')) if (c.trim() !== '') cookies.push(c.trim());
    } else {
      joinInto(headers, name, value);
    }
  }
  const query = {};
  let hasQuery = false;
  url.searchParams.forEach((value, name) => {
    joinInto(query, name, value);
    hasQuery = true;
  });

  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
  };
  if (cookies.length > 0) event.cookies = cookies;
  event.headers = headers;
  if (hasQuery) event.queryStringParameters = query;
  const domainName = Object.prototype.hasOwnProperty.call(headers, 'host') ? headers.host : url.host;
  const forwarded = Object.prototype.hasOwnProperty.call(headers, 'x-forwarded-for') ? headers['x-forwarded-for'].split(',')[0].trim() : '';
  event.requestContext = {
    accountId: 'fn',
    apiId: 'fn',
    domainName,
    domainPrefix: domainName.split('.')[0],
    http: {
      method: invocation.method.toUpperCase(),
      path: url.pathname,
      protocol: 'HTTP/1.1',
      sourceIp: forwarded || '127.0.0.1',
      userAgent: Object.prototype.hasOwnProperty.call(headers, 'user-agent') ? headers['user-agent'] : '',
    },
    requestId: invocation.invocationId,
    routeKey: '$default',
    stage: '$default',
    time: apiGatewayTime(invocation.startMs),
    timeEpoch: Math.floor(invocation.startMs),
  };
  const bytes = invocation.bytes;
  if (bytes.length > 0) {
    let text = null;
    try {
      text = utf8Decode(bytes, true);
    } catch (e) {
      text = null; // not UTF-8: send it base64-encoded, as API Gateway does for binary bodies
    }
    event.body = text !== null ? text : base64Encode(bytes);
    event.isBase64Encoded = text === null;
  } else {
    event.isBase64Encoded = false;
  }
  return event;
}

// moduleMeta: { name, memoryMiB }; invocation: { id, deadlineMs }
export function buildLambdaContext(moduleMeta, invocation) {
  const name = moduleMeta.name;
  return {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:fn:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: String(moduleMeta.memoryMiB),
    awsRequestId: invocation.id,
    logGroupName: `/fn/${name}`,
    logStreamName: invocation.id,
    callbackWaitsForEmptyEventLoop: true,
    // fn's own: the invocation's W3C trace, as the fetch style's ctx has it ('' when not traced).
    traceparent: invocation.traceparent,
    traceId: invocation.traceparent.slice(3, 35),
    getRemainingTimeInMillis() {
      const left = invocation.deadlineMs - native.now();
      return isFinite(left) ? Math.max(0, Math.floor(left)) : 2147483647;
    },
  };
}

// Calls the handler in any of Lambda's styles: returning a promise (async), calling the callback
// (handler(event, context, callback)), the legacy context.done/succeed/fail, or returning a value.
export function callLambdaHandler(handler, thisArg, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(result);
    };
    context.done = callback;
    context.succeed = (result) => callback(null, result);
    context.fail = (err) => callback(err === undefined || err === null ? new Error('context.fail() was called') : err);
    let returned;
    try {
      returned = handler.call(thisArg, event, context, callback);
    } catch (e) {
      callback(e);
      return;
    }
    if (returned !== null && typeof returned === 'object' && typeof returned.then === 'function') {
      returned.then(
        (result) => callback(null, result),
        (err) => callback(err === undefined || err === null ? new Error(`the handler rejected with ${err}`) : err),
      );
    } else if (handler.length < 3) {
      // A synchronous handler that takes no callback: its return value is the result.
      callback(null, returned);
    }
  });
}

function lambdaResultError(message) {
  return new TypeError(`the handler's result ${message}`);
}

function appendLambdaHeader(headers, name, value) {
  if (Array.isArray(value)) for (const v of value) headers.append(name, String(v));
  else if (value !== undefined && value !== null) headers.append(name, String(value));
}

// Maps a handler's result to a Response, following API Gateway's rules (see the top of the file).
export function lambdaResultToResponse(result) {
  if (result instanceof Response) return result;
  if (result === undefined) return new Response(null, { status: 200 });
  if (typeof result === 'string') return new Response(result, { status: 200 });
  if (result === null || typeof result !== 'object' || !('statusCode' in result)) {
    return Response.json(result);
  }
  const status = Number(result.statusCode);
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw lambdaResultError(`has statusCode ${JSON.stringify(result.statusCode)}; use an integer from 200 to 599`);
  }
  const headers = new Headers();
  for (const source of [result.headers, result.multiValueHeaders]) {
    if (source === undefined || source === null) continue;
    if (typeof source !== 'object') throw lambdaResultError('has headers that are not an object of names to values');
    for (const name of Object.keys(source)) appendLambdaHeader(headers, name, source[name]);
  }
  if (result.cookies !== undefined && result.cookies !== null) {
    if (!Array.isArray(result.cookies)) throw lambdaResultError('has cookies that are not an array of strings');
    for (const cookie of result.cookies) headers.append('set-cookie', String(cookie));
  }
  let bytes = null;
  const body = result.body;
  if (body !== undefined && body !== null && NULL_BODY_STATUSES.indexOf(status) < 0) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    if (result.isBase64Encoded === true) {
      bytes = base64Decode(text);
      if (bytes === null) throw lambdaResultError('has isBase64Encoded set but its body is not valid base64');
    } else {
      bytes = utf8Encode(text);
    }
  }
  return new Response(bytes, { status, headers });
}
