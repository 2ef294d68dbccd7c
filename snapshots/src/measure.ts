/**
 * npm run measure -w @fn/snapshots [-- --json]
 *
 * What snappy buys for snapshots, on realistic guest memory: a 64 MiB guest laid out like the KVM
 * guest (fn-guest.elf's PT_LOAD segments at 0x400000, the heap right after them) whose heap is the
 * real arena of fn-guest-process read through /proc/<pid>/mem, once after boot (the base
 * snapshot) and once after loading functions/validate-ts (zod bundled: the function snapshot).
 * Without the process guest or @fn/vmm it falls back to a synthetic heap and says so.
 *
 * Reports ratio and cost both ways, at rest (raw sparse file vs compressed), in transfer (page
 * runs vs whole file), and the restore-side work each choice implies. It records numbers; it
 * never passes or fails.
 */
import { readFileSync, openSync, readSync, closeSync, statSync, writeFileSync, rmSync, fsyncSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressSync, uncompressSync } from 'snappy';
import { PAGE_SIZE, sha256 } from './digest.js';
import { encodeStateFile } from './state-file.js';
import { SnapshotStore } from './store.js';
import { encodePageRuns, packForTransfer, unpackFromTransfer } from './transfer.js';

const MIB = 1 << 20;
const GUEST_BYTES = 64 * MIB;
const STACK_AND_GUARD = MIB + PAGE_SIZE;
const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const json = process.argv.includes('--json');
const log = (message: string) => process.stderr.write(`measure: ${message}\n`);

/** Median wall time of `fn` over `runs` runs, in ms. */
async function time(runs: number, fn: () => unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples.sort((a, b) => a - b)[samples.length >> 1]!;
}

/** The largest private anonymous rw mapping of a process guest: its arena, i.e. the JS heap. */
function readArena(pid: number): Buffer {
  let best: [number, number] = [0, 0];
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) rw-p 00000000 00:00 0\s*$/.exec(line);
    if (m && parseInt(m[2]!, 16) - parseInt(m[1]!, 16) > best[1] - best[0]) best = [parseInt(m[1]!, 16), parseInt(m[2]!, 16)];
  }
  const out = Buffer.alloc(best[1] - best[0]);
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    readSync(fd, out, 0, out.length, best[0]);
  } finally {
    closeSync(fd);
  }
  return out;
}

async function realHeaps(): Promise<{ base: Buffer; fn: Buffer; source: string }> {
  // Loaded by name at run time: measuring must not make @fn/snapshots depend on the VMM.
  const vmmName = '@fn/vmm';
  const cliName = '@fn/cli';
  try {
    const { MicroVM } = await import(vmmName);
    const { bundleFunction } = await import(cliName);
    const vm = await MicroVM.boot({ backend: 'process', memoryMiB: 64 });
    try {
      const base = readArena(vm.hostPid);
      const bundle = await bundleFunction(repo('functions/validate-ts/src/index.ts'));
      await vm.load(bundle.code, { name: 'validate-ts' });
      return { base, fn: readArena(vm.hostPid), source: `fn-guest-process arena after boot / after loading validate-ts (${bundle.bytes} B bundle)` };
    } finally {
      vm.close();
    }
  } catch (err) {
    log(`no real guest heap (${(err as Error).message}); using a synthetic one`);
    const heap = (seed: number, kib: number) => {
      const out = Buffer.alloc(kib * 1024);
      for (let off = 0; off < out.length; off += 64) {
        out.writeBigUInt64LE(0x4e1000n + BigInt((off * 7 + seed) % 0x300000), off); // pointers
        out.write(`key${(off + seed) % 997}:"value"`, off + 16, 'latin1'); // atoms and strings
      }
      return out;
    };
    return { base: heap(1, 360), fn: Buffer.concat([heap(1, 360), heap(2, 400)]), source: 'synthetic heap (pointer + string pattern)' };
  }
}

/** fn-guest.elf's PT_LOAD file bytes at their addresses; returns where the image ends. */
function loadElf(image: Buffer, elf: Buffer): number {
  const phoff = Number(elf.readBigUInt64LE(32));
  const phentsize = elf.readUInt16LE(54);
  let end = 0;
  for (let i = 0; i < elf.readUInt16LE(56); i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 1) continue; // PT_LOAD
    const offset = Number(elf.readBigUInt64LE(ph + 8));
    const vaddr = Number(elf.readBigUInt64LE(ph + 16));
    const filesz = Number(elf.readBigUInt64LE(ph + 32));
    elf.copy(image, vaddr, offset, offset + filesz);
    end = Math.max(end, vaddr + Number(elf.readBigUInt64LE(ph + 40)));
  }
  return end;
}

function guestImage(elf: Buffer, heap: Buffer): Buffer {
  const image = Buffer.alloc(GUEST_BYTES);
  const heapStart = Math.ceil(loadElf(image, elf) / PAGE_SIZE) * PAGE_SIZE;
  heap.copy(image, heapStart, 0, Math.min(heap.length, GUEST_BYTES - STACK_AND_GUARD - heapStart));
  return image;
}

function dataPages(image: Buffer): Buffer {
  const zero = Buffer.alloc(PAGE_SIZE);
  const pages: Buffer[] = [];
  for (let off = 0; off < image.length; off += PAGE_SIZE) {
    const page = image.subarray(off, off + PAGE_SIZE);
    if (!page.equals(zero)) pages.push(page);
  }
  return Buffer.concat(pages);
}

/** The function's pages that differ from the base: the diff layer file and its page runs. */
function diffLayer(base: Buffer, fn: Buffer): { file: Buffer; runs: Array<[number, number]>; pages: number } {
  const file = Buffer.alloc(fn.length);
  const runs: Array<[number, number]> = [];
  let pages = 0;
  for (let p = 0; p < fn.length / PAGE_SIZE; p++) {
    const at = p * PAGE_SIZE;
    if (fn.subarray(at, at + PAGE_SIZE).equals(base.subarray(at, at + PAGE_SIZE))) continue;
    fn.copy(file, at, at, at + PAGE_SIZE);
    pages++;
    const last = runs.at(-1);
    if (last && last[0] + last[1] === p) last[1]++;
    else runs.push([p, 1]);
  }
  return { file, runs, pages };
}

const mbps = (bytes: number, ms: number) => Math.round(bytes / MIB / (ms / 1000));
const mib = (bytes: number) => Math.round((bytes / MIB) * 100) / 100;
const ms = (v: number) => Math.round(v * 100) / 100;

async function main(): Promise<void> {
  const elf = readFileSync(repo('guest/build/fn-guest.elf'));
  const heaps = await realHeaps();
  const base = guestImage(elf, heaps.base);
  const fn = guestImage(elf, heaps.fn);
  const diff = diffLayer(base, fn);
  const baseData = dataPages(base);
  const diffData = dataPages(diff.file);
  log(`images ready (${heaps.source})`);

  const figures: Record<string, number | string> = {
    'memory source': heaps.source,
    'guest memory MiB': mib(GUEST_BYTES),
    'base data pages MiB': mib(baseData.length),
    'function diff pages': diff.pages,
    'function diff runs': diff.runs.length,
  };

  // snappy on the data that would actually be compressed (non-zero pages), both ways.
  const compressed = compressSync(baseData);
  figures['snappy ratio, base data pages'] = Math.round((baseData.length / compressed.length) * 100) / 100;
  figures['snappy ratio, diff pages'] = Math.round((diffData.length / compressSync(diffData).length) * 100) / 100;
  figures['snappy compress MB/s'] = mbps(baseData.length, await time(15, () => compressSync(baseData)));
  figures['snappy decompress MB/s'] = mbps(baseData.length, await time(15, () => uncompressSync(compressed)));
  // The alternative: compress the whole 64 MiB file, zeros and all.
  const whole = compressSync(base);
  figures['whole-file snappy MiB'] = mib(whole.length);
  figures['whole-file compress ms'] = ms(await time(5, () => compressSync(base)));
  figures['whole-file decompress ms'] = ms(await time(5, () => uncompressSync(whole)));
  figures['sha256 of 64 MiB layer ms'] = ms(await time(5, () => createHash('sha256').update(base).digest()));

  const work = await mkdtemp(join(tmpdir(), 'fn-snapshot-measure-'));
  try {
    // At rest, raw: the sparse layer file the VMM maps MAP_PRIVATE.
    let n = 0;
    figures['at rest raw: write ms (hash+sparse write+fsync)'] = ms(await time(5, () => new SnapshotStore(join(work, `raw-${n++}`)).putBlob(base)));
    const store = new SnapshotStore(join(work, 'store'));
    const baseState = encodeStateFile(statePayload(base, 'base'));
    const baseDigest = await store.putSnapshot(baseState, [base]);
    const basePath = await store.getBlobPath(sha256(base));
    figures['at rest raw: disk MiB'] = mib(statSync(basePath).blocks * 512);
    figures['at rest raw: pread each data page ms'] = ms(await time(5, () => readDataRuns(basePath, base)));
    figures['at rest raw: load, size check only ms'] = ms(await time(5, () => store.loadSnapshot(baseDigest, { verifyMemory: 'size' })));
    figures['at rest raw: load, full rehash ms'] = ms(await time(3, () => store.loadSnapshot(baseDigest, { verifyMemory: 'full' })));

    // At rest, compressed: the same page-run encoding the transfer uses, as one file. Writing it
    // costs the same hash (the digest names it) plus compression instead of the sparse write.
    const packed = Buffer.concat(await (await packForTransfer(store, baseDigest)).toArray());
    const packedPath = join(work, 'base.pack');
    figures['at rest snappy: disk MiB'] = mib(packed.length);
    figures['at rest snappy: write ms (hash+compress+fsync)'] = ms(
      await time(5, () => {
        sha256(base);
        const records: Buffer[] = [];
        for (let off = 0; off < base.length; off += MIB) records.push(...encodePageRuns(base.subarray(off, off + MIB), off));
        writeDurably(join(work, 'write-test.runs'), Buffer.concat(records));
      }),
    );
    writeDurably(packedPath, packed);
    // Before a VM could map it, each cold load would rebuild the raw file: read + unpack + write.
    n = 0;
    figures['at rest snappy: make mappable ms'] = ms(
      await time(5, async () => unpackFromTransfer(new SnapshotStore(join(work, `unpacked-${n++}`)), readFileSync(packedPath))),
    );

    // In transfer: function snapshot with its base (a machine that has nothing), and lean (has base).
    const fnState = encodeStateFile({
      ...statePayload(base, 'function'),
      base: baseDigest,
      function: { name: 'validate-ts', version: '1', bundleDigest: sha256(Buffer.from('bundle')) },
      memory: { layers: [layerOf(base, 'base'), { role: 'diff', digest: sha256(diff.file), bytes: GUEST_BYTES, pages: diff.pages, runs: diff.runs }] },
    });
    const fnDigest = await store.putSnapshot(fnState, [diff.file]);
    const full = Buffer.concat(await (await packForTransfer(store, fnDigest)).toArray());
    const lean = Buffer.concat(await (await packForTransfer(store, fnDigest, { have: [baseDigest, sha256(base)] })).toArray());
    figures['transfer: raw logical MiB (2 layers + states)'] = mib(2 * GUEST_BYTES + baseState.length + fnState.length);
    figures['transfer: non-zero pages MiB (no compression)'] = mib(baseData.length + diffData.length);
    figures['transfer: pack MiB (function + base)'] = mib(full.length);
    figures['transfer: pack MiB (function only, base there)'] = mib(lean.length);
    figures['transfer: whole-file snappy MiB (function + base)'] = mib(whole.length + compressSync(diff.file).length);
    figures['transfer: pack ms (function + base)'] = ms(await time(5, async () => (await packForTransfer(store, fnDigest)).toArray()));
    n = 0;
    figures['transfer: unpack+verify ms (function + base)'] = ms(
      await time(5, async () => unpackFromTransfer(new SnapshotStore(join(work, `recv-${n++}`)), full)),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  process.stdout.write(
    `\nsnapshot store measurements\n${Object.entries(figures)
      .map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)
      .join('\n')}\n`,
  );
  if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function layerOf(image: Buffer, role: 'base') {
  return { role, digest: sha256(image), bytes: image.length, pages: dataPages(image).length / PAGE_SIZE };
}

function statePayload(image: Buffer, kind: 'base' | 'function') {
  return {
    platform: 'kvm' as const,
    abiVersion: 1,
    memoryBytes: image.length,
    createdAt: new Date().toISOString(),
    kind,
    cpu: Buffer.alloc(5 * 1024, 7).toString('base64'), // ~5 KB of CPU state, as measured
    layout: Buffer.alloc(128).toString('base64'), // stands in for pages.bin
    memory: { layers: [layerOf(image, 'base')] },
  };
}

/** Reads only the runs of data pages, as first-touch faults of a mapped layer would. */
function readDataRuns(path: string, image: Buffer): void {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(PAGE_SIZE);
  const zero = Buffer.alloc(PAGE_SIZE);
  try {
    for (let off = 0; off < image.length; off += PAGE_SIZE) {
      if (!image.subarray(off, off + PAGE_SIZE).equals(zero)) readSync(fd, buf, 0, PAGE_SIZE, off);
    }
  } finally {
    closeSync(fd);
  }
}

function writeDurably(path: string, bytes: Buffer): void {
  writeFileSync(path, bytes);
  const fd = openSync(path, 'r+');
  fsyncSync(fd);
  closeSync(fd);
}

await main();
