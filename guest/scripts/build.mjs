#!/usr/bin/env node
// build.mjs — builds the guest (npm run build -w @fn/guest). Incremental: only what changed is
// recompiled or relinked. Produces, in guest/build/:
//   fn-guest.elf       the KVM guest: static, non-PIE, linked at 0x400000, entry _start
//   fn-guest-process   the same runtime as a Linux program for the seccomp process sandbox
//   qjs-native         the same QuickJS objects as a plain CLI, the benchmark's baseline
// and, as a build tool, tools/prelude-compiler (the prelude as bytecode for the guests to embed).

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { depfileInputs, isStale, recordCommand } from './lib/incremental.mjs';
import { GuestBuildError, log } from './lib/log.mjs';
import { compilePrelude, ensurePrelude } from './lib/prelude.mjs';
import { haveCommand, run, runPool } from './lib/run.mjs';
import {
  ENGINE_SOURCES,
  EXTRA_FLAGS,
  FORBIDDEN_MUSL_MEMBERS,
  KVM_SOURCES,
  LINK_FLAGS,
  NATIVE_SOURCES,
  PROCESS_SOURCES,
  RUNTIME_SOURCES,
  TOOL_SOURCES,
  engineFlags,
  layout,
  runtimeFlags,
} from './lib/targets.mjs';
import { ensureQuickjsSources } from './lib/vendor.mjs';

const CC = 'musl-gcc';
const L = layout(join(dirname(fileURLToPath(import.meta.url)), '..'));
let didWork = false;

/** A compile job for one source: returns the object path; runs gcc only when stale. */
function compileJob(source, object, flags, cc = CC) {
  const depfile = `${object}.d`;
  const command = [cc, ...flags, '-MMD', '-MF', depfile, '-c', source, '-o', object];
  return {
    object,
    job: async () => {
      const inputs = depfileInputs(depfile) ?? [source];
      if (!isStale(object, inputs, command)) return;
      didWork = true;
      log(`compiling ${basename(source)}`);
      mkdirSync(dirname(object), { recursive: true });
      const { stderr } = await run(command[0], command.slice(1));
      if (stderr.trim()) process.stderr.write(stderr); // warnings: show them, do not fail
      recordCommand(object, command);
    },
  };
}

async function link(output, objects, flags, cc = CC) {
  const command = [cc, ...flags, '-o', output, ...objects];
  if (!isStale(output, objects, command)) return;
  didWork = true;
  log(`linking ${basename(output)}`);
  const { stderr } = await run(command[0], command.slice(1));
  if (stderr.trim()) process.stderr.write(stderr);
  recordCommand(output, command);
}

/** Fails the build if musl's malloc was linked: everything must go through the arena. */
function checkNoMuslMalloc(mapFile, program) {
  const map = readFileSync(mapFile, 'utf8');
  const found = FORBIDDEN_MUSL_MEMBERS.filter((m) => map.includes(`libc.a(${m})`));
  if (found.length) {
    throw new GuestBuildError(`${program} links musl's allocator (${found.join(', ')}): something bypasses the arena`);
  }
}

async function main() {
  if (!haveCommand(CC)) throw new GuestBuildError('musl-gcc not found: install musl-tools (apt-get install musl-tools)');
  mkdirSync(L.buildDir, { recursive: true });
  const quickjsDir = await ensureQuickjsSources(L.guestDir, L.buildDir);
  const preludeJs = await ensurePrelude(L.guestDir, L.buildDir);

  const engFlags = engineFlags(L, quickjsDir);
  const rtFlags = runtimeFlags(L, quickjsDir);
  const obj = (group, file) => join(L.objDir, group, basename(file).replace(/\.[cS]$/, '.o'));
  const fromSrc = (group, files) => files.map((f) => compileJob(join(L.srcDir, f), obj(group, f), [...rtFlags, ...(EXTRA_FLAGS[f] ?? [])]));
  const objs = (list) => list.map((c) => c.object);

  const engine = ENGINE_SOURCES.map((f) => compileJob(join(quickjsDir, f), obj('engine', f), engFlags));
  const runtime = fromSrc('runtime', RUNTIME_SOURCES);
  const kvm = fromSrc('kvm', KVM_SOURCES);
  const proc = fromSrc('process', PROCESS_SOURCES);
  const native = fromSrc('native', NATIVE_SOURCES);
  const tool = fromSrc('tools', TOOL_SOURCES);

  // quickjs.c dominates (about half the build time): start it first.
  const all = [...engine, ...tool, ...native, ...runtime, ...kvm, ...proc];
  await runPool(
    all.map((c) => c.job),
    availableParallelism(),
  );

  // The prelude is embedded as bytecode made by a tool that links the same engine objects.
  const shims = native.filter((c) => c.object.endsWith('native_shims.o'));
  mkdirSync(dirname(L.outputs.preludeCompiler), { recursive: true });
  await link(L.outputs.preludeCompiler, [...objs(tool), ...objs(shims), ...objs(engine)], LINK_FLAGS.native());
  const preludeC = await compilePrelude(preludeJs, L.outputs.preludeCompiler, L.buildDir);
  const prelude = compileJob(preludeC, obj('runtime', preludeC), rtFlags);
  await prelude.job();
  runtime.push(prelude);

  const kvmMap = join(L.buildDir, 'fn-guest.map');
  const procMap = join(L.buildDir, 'fn-guest-process.map');
  await Promise.all([
    link(L.outputs.kvm, [...objs(kvm), ...objs(runtime), ...objs(engine)], LINK_FLAGS.kvm(kvmMap)),
    link(L.outputs.process, [...objs(proc), ...objs(runtime), ...objs(engine)], LINK_FLAGS.process(procMap)),
    link(L.outputs.native, [...objs(native), ...objs(engine)], LINK_FLAGS.native()),
  ]);
  checkNoMuslMalloc(kvmMap, 'fn-guest.elf');
  checkNoMuslMalloc(procMap, 'fn-guest-process');
  for (const out of Object.values(L.outputs)) {
    if (!existsSync(out)) throw new GuestBuildError(`${out} was not produced`);
  }
  log(didWork ? 'done' : 'up to date');
}

main().catch((error) => {
  process.stderr.write(`guest: build failed: ${error instanceof GuestBuildError ? error.message : error.stack}\n`);
  process.exit(1);
});
