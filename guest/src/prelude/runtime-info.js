// globalThis.fn: what runtime this is and where it runs, for functions that want to know (the
// whoami example proves with it that it runs inside the guest). Frozen: a function cannot lie to
// itself about its own memory limit.

import { nativeInfo, defineGlobal } from './internal.js';
defineGlobal('fn', Object.freeze({
  runtime: nativeInfo.runtime,
  version: nativeInfo.version,
  engine: nativeInfo.engine,
  platform: nativeInfo.platform,
  memoryBytes: nativeInfo.memoryBytes,
}));
