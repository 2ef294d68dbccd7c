// targets.mjs — what gets compiled with which flags, and how the three programs are linked.
//
// The QuickJS objects are compiled ONCE, with one set of flags, and linked into all three
// programs: fn-guest.elf (KVM), fn-guest-process (seccomp sandbox) and qjs-native (benchmark
// baseline). That makes "the guest runs QuickJS at native speed" a comparison of the same code.

import { join } from 'node:path';

export const FN_GUEST_LOAD_ADDR = '0x400000'; // fn_abi.h FN_GUEST_LOAD_ADDR

export function layout(guestDir) {
  const buildDir = join(guestDir, 'build');
  return {
    guestDir,
    buildDir,
    srcDir: join(guestDir, 'src'),
    includeDir: join(guestDir, 'include'),
    objDir: join(buildDir, 'obj'),
    outputs: {
      kvm: join(buildDir, 'fn-guest.elf'),
      process: join(buildDir, 'fn-guest-process'),
      native: join(buildDir, 'qjs-native'),
      preludeCompiler: join(buildDir, 'tools', 'prelude-compiler'),
    },
  };
}

/** Flags shared by every C file we compile for any of the three programs. */
const COMMON = [
  '-O2',
  '-fno-stack-protector', // the guest has no canary-failure path that is not a syscall
  '-fno-pie', // static, non-PIE: linked at FN_GUEST_LOAD_ADDR, no relocation at load time
  '-ffunction-sections', // with --gc-sections: unreferenced code (and what it calls) is dropped
  '-fdata-sections',
];

/** The engine flags: identical in all builds. */
export function engineFlags(L, quickjsDir) {
  return [
    ...COMMON,
    '-D_GNU_SOURCE',
    '-DCONFIG_VERSION="2021-03-27"',
    '-DCONFIG_BIGNUM', // BigInt (ES2020) needs libbf in QuickJS 2021
    '-include',
    join(L.srcDir, 'engine_shim.h'),
    '-I',
    quickjsDir,
    '-w', // vendor code: its warnings are not ours to fix
  ];
}

export const ENGINE_SOURCES = ['quickjs.c', 'libregexp.c', 'libunicode.c', 'cutils.c', 'libbf.c'];

export function runtimeFlags(L, quickjsDir) {
  return [
    ...COMMON,
    '-std=gnu11',
    '-Wall',
    '-Wextra',
    '-Wno-unused-parameter',
    '-I',
    L.includeDir,
    '-I',
    L.srcDir,
    '-isystem', // QuickJS's headers trip -Wextra; they are not ours to fix
    quickjsDir,
  ];
}

/** Per-file extra flags. */
export const EXTRA_FLAGS = {
  // The allocator itself: gcc must not turn malloc+memset into a call to calloc (which is this
  // very file) or treat our malloc as the builtin.
  'arena.c': ['-fno-builtin'],
};

/** Runtime sources shared by both guest builds (KVM and process). */
export const RUNTIME_SOURCES = [
  'main_loop.c',
  'runtime.c',
  'command_load.c',
  'command_invoke.c',
  'test_attacks.c',
  'module_loader.c',
  'native_api.c',
  'js_memory.c',
  'js_error.c',
  'js_bytes.c',
  'channel.c',
  'out.c',
  'utf8.c',
  'arena.c',
  'clock.c',
  'time_shim.c',
  'entropy.c',
  'chacha20.c',
  'sha.c',
  'atomics_stub.c',
  'stdio_stub.c',
  'fatal.c',
  'stack_moat.c',
];

export const KVM_SOURCES = ['start_kvm.S', 'platform_kvm.c'];
export const PROCESS_SOURCES = ['platform_process.c', 'process_io.c'];
export const NATIVE_SOURCES = ['native/qjs_native.c', 'native/native_shims.c'];
export const TOOL_SOURCES = ['native/prelude_compiler.c'];

export const LINK_FLAGS = {
  kvm: (mapFile) => [
    '-static',
    '-no-pie',
    '-nostartfiles', // our _start; musl's crt1/__libc_start_main would make syscalls
    '-Wl,-e,_start',
    `-Wl,-Ttext-segment=${FN_GUEST_LOAD_ADDR}`,
    '-Wl,--gc-sections',
    '-Wl,-z,noexecstack',
    '-Wl,-z,norelro',
    '-Wl,--build-id=none',
    `-Wl,-Map=${mapFile}`,
  ],
  process: (mapFile) => ['-static', '-no-pie', `-Wl,-Ttext-segment=${FN_GUEST_LOAD_ADDR}`, '-Wl,--gc-sections', '-Wl,-z,noexecstack', `-Wl,-Map=${mapFile}`],
  native: () => ['-static', '-no-pie', '-Wl,--gc-sections'],
};

/** musl archive members that would mean musl's malloc got linked in next to the arena. */
export const FORBIDDEN_MUSL_MEMBERS = [
  'lite_malloc.lo',
  'malloc.lo',
  'free.lo',
  'realloc.lo',
  'calloc.lo',
  'libc_calloc.lo',
  'malloc_usable_size.lo',
  'donate.lo',
  'memalign.lo',
  'aligned_alloc.lo',
  'posix_memalign.lo',
];
