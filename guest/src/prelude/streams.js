// streams.js — a minimal, honest ReadableStream: what a handler needs to read `request.body` (or
// `response.body`) as a stream. Bodies in fn are buffered whole, so a body stream is one chunk;
// user code may also build its own stream from an underlying source (start / pull / cancel, with
// a controller's enqueue / close / error) and read it. Not provided: byte streams (BYOB readers),
// tee(), pipeTo()/pipeThrough(), WritableStream, TransformStream, and streams as Request or
// Response bodies (pass the bytes instead).

import { defineGlobal, setToStringTag, describeValue } from './internal.js';

const streamState = new WeakMap();

function makeController(state) {
  const controller = {
    enqueue(chunk) {
      if (state.closeRequested || state.state !== 'readable') throw new TypeError('ReadableStream: cannot enqueue into a closed or errored stream');
      if (state.waiting.length > 0) state.waiting.shift().resolve({ value: chunk, done: false });
      else state.queue.push(chunk);
    },
    close() {
      if (state.closeRequested || state.state !== 'readable') throw new TypeError('ReadableStream: the stream is already closed or errored');
      state.closeRequested = true;
      if (state.queue.length === 0) finishClose(state);
    },
    error(reason) {
      if (state.state !== 'readable') return;
      state.state = 'errored';
      state.storedError = reason;
      state.queue = [];
      for (const w of state.waiting.splice(0)) w.reject(reason);
      for (const w of state.closedWaiters.splice(0)) w.reject(reason);
    },
    get desiredSize() {
      return state.state === 'readable' ? 1 - state.queue.length : state.state === 'closed' ? 0 : null;
    },
  };
  setToStringTag(controller, 'ReadableStreamDefaultController');
  return controller;
}

function finishClose(state) {
  state.state = 'closed';
  for (const w of state.waiting.splice(0)) w.resolve({ value: undefined, done: true });
  for (const w of state.closedWaiters.splice(0)) w.resolve(undefined);
}

function pullIfNeeded(state) {
  if (state.pulling || typeof state.source.pull !== 'function' || state.state !== 'readable' || state.closeRequested) return;
  state.pulling = true;
  Promise.resolve()
    .then(() => state.source.pull.call(state.source, state.controller))
    .then(
      () => {
        state.pulling = false;
        if (state.waiting.length > 0 && state.queue.length === 0) pullIfNeeded(state);
      },
      (e) => state.controller.error(e),
    );
}

function readFrom(state) {
  if (state.queue.length > 0) {
    const value = state.queue.shift();
    if (state.queue.length === 0 && state.closeRequested) finishClose(state);
    return Promise.resolve({ value, done: false });
  }
  if (state.state === 'closed') return Promise.resolve({ value: undefined, done: true });
  if (state.state === 'errored') return Promise.reject(state.storedError);
  return new Promise((resolve, reject) => {
    state.waiting.push({ resolve, reject });
    pullIfNeeded(state);
  });
}

function cancelStream(state, reason) {
  if (state.state === 'closed') return Promise.resolve();
  if (state.state === 'errored') return Promise.reject(state.storedError);
  state.queue = [];
  finishClose(state);
  return Promise.resolve(typeof state.source.cancel === 'function' ? state.source.cancel.call(state.source, reason) : undefined).then(() => undefined);
}

class ReadableStreamDefaultReader {
  constructor(stream) {
    const state = streamState.get(stream);
    if (state === undefined) throw new TypeError(`ReadableStreamDefaultReader: expected a ReadableStream, got ${describeValue(stream)}`);
    if (state.reader !== null) throw new TypeError('ReadableStream: the stream is locked to another reader');
    state.reader = this;
    readerState.set(this, { stream: state });
  }
  read() {
    const r = readerState.get(this);
    if (r === undefined || r.stream === null) return Promise.reject(new TypeError('ReadableStreamDefaultReader.read: the reader has been released'));
    return readFrom(r.stream);
  }
  cancel(reason) {
    const r = readerState.get(this);
    if (r === undefined || r.stream === null) return Promise.reject(new TypeError('ReadableStreamDefaultReader.cancel: the reader has been released'));
    return cancelStream(r.stream, reason);
  }
  releaseLock() {
    const r = readerState.get(this);
    if (r === undefined || r.stream === null) return;
    for (const w of r.stream.waiting.splice(0)) w.reject(new TypeError('ReadableStreamDefaultReader: the reader was released'));
    r.stream.reader = null;
    r.stream = null;
  }
  get closed() {
    const r = readerState.get(this);
    if (r === undefined || r.stream === null) return Promise.reject(new TypeError('the reader has been released'));
    const state = r.stream;
    if (state.state === 'closed') return Promise.resolve(undefined);
    if (state.state === 'errored') return Promise.reject(state.storedError);
    return new Promise((resolve, reject) => state.closedWaiters.push({ resolve, reject }));
  }
}
const readerState = new WeakMap();
setToStringTag(ReadableStreamDefaultReader.prototype, 'ReadableStreamDefaultReader');

export class ReadableStream {
  constructor(underlyingSource, strategy) {
    const source = underlyingSource === undefined || underlyingSource === null ? {} : underlyingSource;
    if (source.type === 'bytes') throw new TypeError('ReadableStream: byte streams (type "bytes") are not supported in fn');
    void strategy;
    const state = {
      source,
      queue: [],
      waiting: [],
      state: 'readable',
      closeRequested: false,
      storedError: undefined,
      reader: null,
      pulling: false,
      controller: null,
      onRead: null,
      closedWaiters: [],
    };
    state.controller = makeController(state);
    streamState.set(this, state);
    if (typeof source.start === 'function') {
      Promise.resolve(source.start.call(source, state.controller)).then(undefined, (e) => state.controller.error(e));
    }
  }
  get locked() {
    return streamState.get(this).reader !== null;
  }
  getReader(options) {
    if (options !== undefined && options !== null && options.mode !== undefined)
      throw new TypeError('ReadableStream.getReader: only the default reader is supported in fn (no "byob")');
    const state = streamState.get(this);
    if (state.onRead !== null) state.onRead();
    return new ReadableStreamDefaultReader(this);
  }
  cancel(reason) {
    const state = streamState.get(this);
    if (state.reader !== null) return Promise.reject(new TypeError('ReadableStream.cancel: the stream is locked to a reader'));
    if (state.onRead !== null) state.onRead();
    return cancelStream(state, reason);
  }
  values(options) {
    const reader = this.getReader();
    const preventCancel = options !== undefined && options !== null && Boolean(options.preventCancel);
    const iterator = {
      next() {
        return reader.read().then((r) => {
          if (r.done) reader.releaseLock();
          return r;
        });
      },
      return(value) {
        const done = preventCancel ? Promise.resolve() : reader.cancel(value);
        return done.then(() => {
          reader.releaseLock();
          return { value, done: true };
        });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return iterator;
  }
}
Object.defineProperty(ReadableStream.prototype, Symbol.asyncIterator, { value: ReadableStream.prototype.values, writable: true, configurable: true });
setToStringTag(ReadableStream.prototype, 'ReadableStream');

/** A stream of one chunk (a buffered body); onRead runs when a reader first takes it (marks the body used). */
export function bodyStream(bytes, onRead) {
  const stream = new ReadableStream({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
  streamState.get(stream).onRead = () => {
    streamState.get(stream).onRead = null;
    onRead();
  };
  bodyStreamBytes.set(stream, bytes);
  return stream;
}

const bodyStreamBytes = new WeakMap();

/** The bytes behind a body stream nobody has read (so `new Request(url, otherRequest)` copies them), else null. */
export function unreadBodyStreamBytes(stream) {
  const state = streamState.get(stream);
  if (state === undefined || state.onRead === null || !bodyStreamBytes.has(stream)) return null;
  return bodyStreamBytes.get(stream);
}

defineGlobal('ReadableStream', ReadableStream);
defineGlobal('ReadableStreamDefaultReader', ReadableStreamDefaultReader);
