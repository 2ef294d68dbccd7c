// Stand-in for `k6/http`: synchronous like k6's (the script's thread blocks), real HTTP done by a
// worker thread (fetcher.mjs). Responses have k6's shape: status, body, headers under canonical
// names (X-Fn-Cold-Start), timings.duration in ms, json(), error.
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { state } from './state.mjs';

let fetcher;
function worker() {
  if (!fetcher) {
    fetcher = new Worker(new URL('./fetcher.mjs', import.meta.url));
    fetcher.unref();
  }
  return fetcher;
}

// Go's textproto.CanonicalMIMEHeaderKey, as k6 names response headers.
const canonical = (name) => name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());

function request(method, url, body, params = {}) {
  if (typeof url !== 'string') throw new Error(`http.${method.toLowerCase()}: url must be a string`);
  const { port1, port2 } = new MessageChannel();
  const signal = new Int32Array(new SharedArrayBuffer(4));
  worker().postMessage({ port: port2, signal, method, url, body, headers: params.headers ?? {} }, [port2]);
  Atomics.wait(signal, 0, 0);
  const answer = receiveMessageOnPort(port1)?.message;
  port1.close();
  if (!answer) throw new Error('the k6 stand-in lost an HTTP answer');
  const headers = {};
  for (const [k, v] of answer.headers) headers[canonical(k)] = v;
  const tags = { method, url, status: String(answer.status), ...(params.tags ?? {}) };
  state.samples.push({ metric: 'http_req_duration', type: 'trend', value: answer.duration, tags });
  state.samples.push({ metric: 'http_reqs', type: 'counter', value: 1, tags });
  state.samples.push({ metric: 'http_req_failed', type: 'rate', value: answer.status >= 200 && answer.status < 400 ? 0 : 1, tags });
  return {
    status: answer.status,
    body: answer.body,
    headers,
    error: answer.error,
    url,
    timings: { duration: answer.duration },
    json(selector) {
      const value = JSON.parse(answer.body);
      return selector === undefined ? value : value[selector];
    },
  };
}

export const get = (url, params) => request('GET', url, null, params);
export const post = (url, body, params) => request('POST', url, body, params);
export const put = (url, body, params) => request('PUT', url, body, params);
export const del = (url, body, params) => request('DELETE', url, body, params);
export { request };

export default { get, post, put, del, request };
