// events.js — Event, EventTarget, AbortController, AbortSignal (with timeout and any), and
// WeakRef / FinalizationRegistry.
//
// There is no DOM tree: dispatch reaches the target's own listeners only (no capture or bubble
// phases). A listener that throws is reported as an uncaught error in the logs and dispatch goes
// on, as in browsers.
//
// WeakRef and FinalizationRegistry, honestly for a VM that lives for one invocation and is then
// put back to its snapshot: nothing is ever collected in a way an invocation could observe, so a
// WeakRef holds its target (deref() always returns it) and a FinalizationRegistry never calls its
// callback. The spec allows both (collection is never guaranteed); code that relies on a callback
// to release a resource must release it itself.

import { defineGlobal, setToStringTag, requireArgs, isObjectLike, describeValue, DOMException } from './internal.js';
import { reportUncaught } from './console.js';
import { setTimeout as startTimer } from './timers.js';

const eventState = new WeakMap();

class Event {
  constructor(type, init) {
    requireArgs(arguments, 1, 'Event');
    const options = init === undefined || init === null ? {} : init;
    eventState.set(this, {
      type: String(type),
      bubbles: Boolean(options.bubbles),
      cancelable: Boolean(options.cancelable),
      composed: Boolean(options.composed),
      defaultPrevented: false,
      stopImmediate: false,
      stopped: false,
      target: null,
      currentTarget: null,
      dispatching: false,
      timeStamp: typeof performance === 'object' ? performance.now() : 0,
    });
  }
  get type() {
    return eventState.get(this).type;
  }
  get bubbles() {
    return eventState.get(this).bubbles;
  }
  get cancelable() {
    return eventState.get(this).cancelable;
  }
  get composed() {
    return eventState.get(this).composed;
  }
  get defaultPrevented() {
    return eventState.get(this).defaultPrevented;
  }
  get target() {
    return eventState.get(this).target;
  }
  get srcElement() {
    return eventState.get(this).target;
  }
  get currentTarget() {
    return eventState.get(this).currentTarget;
  }
  get eventPhase() {
    return eventState.get(this).dispatching ? 2 : 0;
  }
  get timeStamp() {
    return eventState.get(this).timeStamp;
  }
  get isTrusted() {
    return false;
  }
  get returnValue() {
    return !eventState.get(this).defaultPrevented;
  }
  get cancelBubble() {
    return eventState.get(this).stopped;
  }
  set cancelBubble(value) {
    if (value) eventState.get(this).stopped = true;
  }
  preventDefault() {
    const s = eventState.get(this);
    if (s.cancelable) s.defaultPrevented = true;
  }
  stopPropagation() {
    eventState.get(this).stopped = true;
  }
  stopImmediatePropagation() {
    const s = eventState.get(this);
    s.stopped = true;
    s.stopImmediate = true;
  }
  composedPath() {
    const s = eventState.get(this);
    return s.dispatching && s.currentTarget !== null ? [s.currentTarget] : [];
  }
}
for (const [name, value] of [
  ['NONE', 0],
  ['CAPTURING_PHASE', 1],
  ['AT_TARGET', 2],
  ['BUBBLING_PHASE', 3],
]) {
  Object.defineProperty(Event, name, { value, enumerable: true });
  Object.defineProperty(Event.prototype, name, { value, enumerable: true });
}
setToStringTag(Event.prototype, 'Event');

const listenersOf = new WeakMap(); // EventTarget → Map(type → [{ listener, capture, once, removed }])

function flattenOptions(options) {
  if (typeof options === 'boolean') return { capture: options, once: false, signal: undefined };
  if (!isObjectLike(options)) return { capture: false, once: false, signal: undefined };
  return { capture: Boolean(options.capture), once: Boolean(options.once), signal: options.signal };
}

function targetListeners(target) {
  let map = listenersOf.get(target);
  if (map === undefined) {
    if (!(target instanceof EventTarget)) throw new TypeError(`EventTarget method called on ${describeValue(target)}`);
    map = new Map();
    listenersOf.set(target, map);
  }
  return map;
}

class EventTarget {
  constructor() {
    listenersOf.set(this, new Map());
  }
  addEventListener(type, listener, options) {
    requireArgs(arguments, 2, 'EventTarget.addEventListener');
    if (listener === null || listener === undefined) return;
    if (!isObjectLike(listener))
      throw new TypeError(`EventTarget.addEventListener: the listener must be a function or an object with handleEvent(), got ${describeValue(listener)}`);
    const { capture, once, signal } = flattenOptions(options);
    if (signal !== undefined && signal.aborted) return;
    const map = targetListeners(this);
    const key = String(type);
    let list = map.get(key);
    if (list === undefined) map.set(key, (list = []));
    if (list.some((l) => l.listener === listener && l.capture === capture)) return;
    const entry = { listener, capture, once, removed: false };
    list.push(entry);
    if (signal !== undefined) signal.addEventListener('abort', () => this.removeEventListener(key, listener, { capture }));
  }
  removeEventListener(type, listener, options) {
    requireArgs(arguments, 2, 'EventTarget.removeEventListener');
    const { capture } = flattenOptions(options);
    const map = targetListeners(this);
    const key = String(type);
    const list = map.get(key);
    if (list === undefined) return;
    const i = list.findIndex((l) => l.listener === listener && l.capture === capture);
    if (i >= 0) {
      list[i].removed = true;
      list.splice(i, 1);
    }
  }
  dispatchEvent(event) {
    requireArgs(arguments, 1, 'EventTarget.dispatchEvent');
    if (!(event instanceof Event)) throw new TypeError(`EventTarget.dispatchEvent: expected an Event, got ${describeValue(event)}`);
    const s = eventState.get(event);
    if (s.dispatching) throw new DOMException('EventTarget.dispatchEvent: the event is already being dispatched', 'InvalidStateError');
    s.target = this;
    s.currentTarget = this;
    s.dispatching = true;
    s.stopped = false;
    s.stopImmediate = false;
    const list = targetListeners(this).get(s.type);
    if (list !== undefined) {
      for (const entry of list.slice()) {
        if (entry.removed) continue;
        if (entry.once) this.removeEventListener(s.type, entry.listener, { capture: entry.capture });
        try {
          if (typeof entry.listener === 'function') entry.listener.call(this, event);
          else if (typeof entry.listener.handleEvent === 'function') entry.listener.handleEvent(event);
        } catch (e) {
          reportUncaught(e, `${s.type} event listener`);
        }
        if (s.stopImmediate) break;
      }
    }
    s.dispatching = false;
    s.currentTarget = null;
    return !s.defaultPrevented;
  }
}
setToStringTag(EventTarget.prototype, 'EventTarget');

// --- AbortController / AbortSignal -----------------------------------------------------------

const signalState = new WeakMap();
let constructingSignal = false;

function newSignal() {
  constructingSignal = true;
  try {
    return new AbortSignal();
  } finally {
    constructingSignal = false;
  }
}

function signalAbort(signal, reason) {
  const s = signalState.get(signal);
  if (s.aborted) return;
  s.aborted = true;
  s.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
  signal.dispatchEvent(new Event('abort'));
}

class AbortSignal extends EventTarget {
  constructor() {
    if (!constructingSignal)
      throw new TypeError(
        'AbortSignal: illegal constructor (use new AbortController().signal, AbortSignal.abort(), AbortSignal.timeout() or AbortSignal.any())',
      );
    super();
    signalState.set(this, { aborted: false, reason: undefined, onabort: null });
  }
  get aborted() {
    return signalState.get(this).aborted;
  }
  get reason() {
    return signalState.get(this).reason;
  }
  get onabort() {
    return signalState.get(this).onabort;
  }
  // An event handler attribute: one listener, registered when a handler is first set (so it runs
  // in registration order among the others), calling whichever handler is set at the time.
  set onabort(handler) {
    const s = signalState.get(this);
    if (s.onabort === null && typeof handler === 'function' && !s.handlerListener) {
      s.handlerListener = (event) => {
        if (typeof s.onabort === 'function') s.onabort.call(this, event);
      };
      this.addEventListener('abort', s.handlerListener);
    }
    s.onabort = typeof handler === 'function' ? handler : null;
  }
  throwIfAborted() {
    const s = signalState.get(this);
    if (s.aborted) throw s.reason;
  }
  static abort(reason) {
    const signal = newSignal();
    signalAbort(signal, reason);
    return signal;
  }
  // Timers end with their invocation, so a timeout longer than the invocation never fires.
  static timeout(ms) {
    requireArgs(arguments, 1, 'AbortSignal.timeout');
    const delay = Number(ms);
    if (!(delay >= 0) || !Number.isFinite(delay))
      throw new TypeError(`AbortSignal.timeout: the delay must be a finite number of milliseconds >= 0, got ${describeValue(ms)}`);
    const signal = newSignal();
    startTimer(() => signalAbort(signal, new DOMException('The operation timed out.', 'TimeoutError')), delay);
    return signal;
  }
  static any(signals) {
    requireArgs(arguments, 1, 'AbortSignal.any');
    const list = Array.from(signals);
    for (const s of list) {
      if (!(s instanceof AbortSignal)) throw new TypeError(`AbortSignal.any: expected AbortSignals, got ${describeValue(s)}`);
    }
    const signal = newSignal();
    const aborted = list.find((s) => s.aborted);
    if (aborted !== undefined) {
      signalAbort(signal, aborted.reason);
      return signal;
    }
    for (const s of list) s.addEventListener('abort', () => signalAbort(signal, s.reason), { once: true });
    return signal;
  }
}
setToStringTag(AbortSignal.prototype, 'AbortSignal');

const controllerSignal = new WeakMap();

class AbortController {
  constructor() {
    controllerSignal.set(this, newSignal());
  }
  get signal() {
    return controllerSignal.get(this);
  }
  abort(reason) {
    signalAbort(controllerSignal.get(this), reason);
  }
}
setToStringTag(AbortController.prototype, 'AbortController');

// --- WeakRef / FinalizationRegistry ----------------------------------------------------------

const weakRefTarget = new WeakMap();

function requireTarget(value, what) {
  if (!isObjectLike(value)) throw new TypeError(`${what}: the target must be an object, got ${describeValue(value)}`);
}

class WeakRef {
  constructor(target) {
    requireTarget(target, 'WeakRef');
    weakRefTarget.set(this, target);
  }
  deref() {
    if (!weakRefTarget.has(this)) throw new TypeError('WeakRef.prototype.deref called on an object that is not a WeakRef');
    return weakRefTarget.get(this);
  }
}
setToStringTag(WeakRef.prototype, 'WeakRef');

const registryCells = new WeakMap();

class FinalizationRegistry {
  constructor(cleanup) {
    if (typeof cleanup !== 'function') throw new TypeError(`FinalizationRegistry: the cleanup callback must be a function, got ${describeValue(cleanup)}`);
    registryCells.set(this, []);
  }
  register(target, heldValue, unregisterToken) {
    requireTarget(target, 'FinalizationRegistry.register');
    if (target === heldValue) throw new TypeError('FinalizationRegistry.register: the held value must not be the target');
    if (unregisterToken !== undefined && !isObjectLike(unregisterToken)) {
      throw new TypeError(`FinalizationRegistry.register: the unregister token must be an object, got ${describeValue(unregisterToken)}`);
    }
    // Only tokens are kept (weakly is not possible here, but the VM's state ends with the invocation).
    if (unregisterToken !== undefined) registryCells.get(this).push(unregisterToken);
  }
  unregister(unregisterToken) {
    if (!isObjectLike(unregisterToken))
      throw new TypeError(`FinalizationRegistry.unregister: the token must be an object, got ${describeValue(unregisterToken)}`);
    const cells = registryCells.get(this);
    let removed = false;
    for (let i = cells.length - 1; i >= 0; i--) {
      if (cells[i] === unregisterToken) {
        cells.splice(i, 1);
        removed = true;
      }
    }
    return removed;
  }
}
setToStringTag(FinalizationRegistry.prototype, 'FinalizationRegistry');

defineGlobal('Event', Event);
defineGlobal('EventTarget', EventTarget);
defineGlobal('AbortSignal', AbortSignal);
defineGlobal('AbortController', AbortController);
if (typeof globalThis.WeakRef !== 'function') defineGlobal('WeakRef', WeakRef);
if (typeof globalThis.FinalizationRegistry !== 'function') defineGlobal('FinalizationRegistry', FinalizationRegistry);
