// Stand-in for `k6/metrics`: each add() is kept with its tags.
import { state } from './state.mjs';

class Metric {
  constructor(type, name, isTime = false) {
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid k6 metric name ${name}`);
    this.type = type;
    this.name = name;
    this.isTime = isTime;
    state.metrics.add(name);
  }
  add(value, tags = {}) {
    if (typeof value !== 'number' && typeof value !== 'boolean') throw new Error(`${this.name}.add(${value}): k6 takes a number`);
    state.samples.push({ metric: this.name, type: this.type, value: Number(value), tags: { ...tags } });
  }
}

export class Trend extends Metric {
  constructor(name, isTime) {
    super('trend', name, isTime);
  }
}
export class Counter extends Metric {
  constructor(name) {
    super('counter', name);
  }
}
export class Rate extends Metric {
  constructor(name) {
    super('rate', name);
  }
}
export class Gauge extends Metric {
  constructor(name) {
    super('gauge', name);
  }
}
