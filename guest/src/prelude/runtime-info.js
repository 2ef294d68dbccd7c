// globalThis.fn: what runtime this is and where it runs, for functions that want to know (the
// whoami example proves with it that it runs inside the guest). Frozen: a function cannot lie to
// itself about its own memory limit.
//
// `platform`: one guest ELF runs under KVM and under the ptrace stand-in, and cannot tell them apart
// itself, so the host names it in the load metadata (dispatch.js); until a function is loaded,
// or if the host named none, it is the guest's own build platform.

import { nativeInfo, defineGlobal } from './internal.js';
import { loaded } from './dispatch.js';

const HOST_PLATFORMS = ['kvm', 'ptrace', 'process'];

defineGlobal(
  'fn',
  Object.freeze({
    runtime: nativeInfo.runtime,
    version: nativeInfo.version,
    engine: nativeInfo.engine,
    get platform() {
      return HOST_PLATFORMS.indexOf(loaded.platform) >= 0 ? loaded.platform : nativeInfo.platform;
    },
    memoryBytes: nativeInfo.memoryBytes,
  }),
);
