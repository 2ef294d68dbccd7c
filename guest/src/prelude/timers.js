// timers.js — setTimeout/setInterval/queueMicrotask and performance.
//
// Timers belong to one invocation: the dispatcher clears them when an invocation starts and when it
// ends. The C runtime drives them through __fn_hooks.nextTimer() (when the earliest one is due, in
// unix ms) and __fn_hooks.runTimers() (run the due ones), sleeping in between.

import { native, defineGlobal, defineMethods, setToStringTag, clock } from './internal.js';
import { reportUncaught } from './console.js';

// Pending timers: { id, at (unix ms), seq (orders equal `at`), callback, args, interval (-1 for
// one-shot), cleared }. Few timers are alive at once, so a plain array is enough.
let pendingTimers = [];
let nextTimerId = 1;
let nextTimerSeq = 1;

function addTimer(what, callback, delay, args, repeat) {
  if (typeof callback !== 'function') {
    throw new TypeError(`${what}: the callback must be a function (fn does not evaluate code passed as a string)`);
  }
  let ms = Number(delay);
  if (!(ms > 0)) ms = 0; // also NaN and undefined
  const timer = {
    id: nextTimerId++,
    at: native.now() + ms,
    seq: nextTimerSeq++,
    callback,
    args,
    interval: repeat ? Math.max(ms, 1) : -1,
    cleared: false,
  };
  pendingTimers.push(timer);
  return timer.id;
}

function removeTimer(id) {
  const index = pendingTimers.findIndex((t) => t.id === id);
  if (index >= 0) {
    pendingTimers[index].cleared = true;
    pendingTimers.splice(index, 1);
  }
}

export function setTimeout(callback, delay = 0, ...args) {
  return addTimer('setTimeout', callback, delay, args, false);
}

function setInterval(callback, delay = 0, ...args) {
  return addTimer('setInterval', callback, delay, args, true);
}

function clearTimeout(id = undefined) {
  if (id !== undefined && id !== null) removeTimer(Number(id));
}

function clearInterval(id = undefined) {
  clearTimeout(id);
}

function queueMicrotask(callback) {
  if (typeof callback !== 'function') throw new TypeError('queueMicrotask: the callback must be a function');
  Promise.resolve().then(() => {
    try {
      callback();
    } catch (e) {
      reportUncaught(e, 'queueMicrotask');
    }
  });
}

// Unix ms of the earliest pending timer, or -1.
export function nextTimerAt() {
  let earliest = -1;
  for (const t of pendingTimers) if (earliest < 0 || t.at < earliest) earliest = t.at;
  return earliest;
}

// Runs every timer due now, earliest first. Timers that these callbacks schedule (and intervals
// that come round again) wait for the next call, so a zero-delay interval cannot spin forever here.
export function runDueTimers() {
  const now = native.now();
  const due = pendingTimers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
  for (const t of due) {
    if (t.cleared) continue; // cleared by an earlier callback of this batch
    if (t.interval < 0) {
      removeTimer(t.id);
    } else {
      t.at = now + t.interval;
      t.seq = nextTimerSeq++;
    }
    try {
      t.callback.apply(undefined, t.args);
    } catch (e) {
      reportUncaught(e, t.interval < 0 ? 'setTimeout' : 'setInterval');
    }
  }
}

export function clearAllTimers() {
  if (pendingTimers.length === 0) return;
  for (const t of pendingTimers) t.cleared = true;
  pendingTimers = [];
}

const performanceObject = {};
defineMethods(performanceObject, {
  now() {
    return native.now() - clock.startMs;
  },
  toJSON() {
    return { timeOrigin: clock.startMs };
  },
});
Object.defineProperty(performanceObject, 'timeOrigin', {
  get() {
    return clock.startMs;
  },
  enumerable: true,
  configurable: true,
});
setToStringTag(performanceObject, 'Performance');

defineGlobal('setTimeout', setTimeout);
defineGlobal('setInterval', setInterval);
defineGlobal('clearTimeout', clearTimeout);
defineGlobal('clearInterval', clearInterval);
defineGlobal('queueMicrotask', queueMicrotask);
defineGlobal('performance', performanceObject);
