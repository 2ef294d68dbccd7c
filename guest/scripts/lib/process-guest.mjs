// process-guest.mjs — a minimal client for fn-guest-process (the process sandbox transport of
// fn_abi.h), for the guest's own smoke tests. The real host lives in vmm/; this one exists so the
// guest can be proven without it. No dependencies.
//
//   guest → host (stdout): u32 event | window header (128 bytes) | output_len bytes
//   host → guest (stdin):  window header (128 bytes) | input_len bytes

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const EVENT = { READY: 1, DONE: 2, PANIC: 3, SLEEP: 4 };
export const COMMAND = { NONE: 0, LOAD: 1, INVOKE: 2 };
export const STATUS = { OK: 0, LOAD_ERROR: 1, OUT_OF_MEMORY: 2, BAD_INPUT: 3, NOT_LOADED: 4 };
/** VMM commands and statuses of include/fn_vmm_control.h (ptrace-vmm; never seen by the guest). */
export const VMM_COMMAND = { SNAPSHOT: 0x100, RESET: 0x101 };
export const VMM_STATUS = { BAD_REQUEST: 0x100, BAD_STATE: 0x101, BAD_SNAPSHOT: 0x102, IO_ERROR: 0x103 };
export const STATUS_NAME = Object.fromEntries([...Object.entries(STATUS), ...Object.entries(VMM_STATUS)].map(([k, v]) => [v, k]));
export const WINDOW_MAGIC = 0x4e57464e;
export const ABI_VERSION = 1;
export const HEADER_SIZE = 128;
/** The ptrace stand-in VMM that runs fn-guest.elf without KVM: a VMM, so it lives and is built in
 *  vmm/ (vmm/native/ptrace/, `npm run build -w @fn/vmm`); the guest's smoke tests borrow it. */
export const ptraceVmmPath = fileURLToPath(new URL('../../../vmm/build/ptrace-vmm', import.meta.url));

/** Encodes the host → guest fields of the window header (fn_abi.h struct fn_window_header). */
export function encodeHeader({ command, inputLen, magic = WINDOW_MAGIC, abiVersion = ABI_VERSION }) {
  const h = Buffer.alloc(HEADER_SIZE);
  h.writeUInt32LE(magic, 0);
  h.writeUInt32LE(abiVersion, 4);
  h.writeUInt32LE(command, 8);
  h.writeUInt32LE(inputLen, 12);
  h.writeBigUInt64LE(BigInt(Date.now()) * 1000000n + BigInt(Math.floor((performance.now() % 1) * 1e6)), 16);
  h.writeBigUInt64LE(0n, 24); // tsc_khz = 0: this transport lets the guest calibrate
  randomBytes(32).copy(h, 32);
  return h;
}

/** Decodes the guest → host fields. */
export function decodeHeader(h) {
  return {
    status: h.readUInt32LE(64),
    outputLen: h.readUInt32LE(68),
    guestNs: Number(h.readBigUInt64LE(72)),
    heapUsed: Number(h.readBigUInt64LE(80)),
    heapPeak: Number(h.readBigUInt64LE(88)),
    sleepNs: Number(h.readBigUInt64LE(96)),
  };
}

/** u32 meta_len | meta JSON | rest */
export function encodeWithMeta(meta, rest = Buffer.alloc(0)) {
  const m = Buffer.from(JSON.stringify(meta));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(m.length);
  return Buffer.concat([len, m, Buffer.from(rest)]);
}

export function decodeInvokeOutput(output) {
  const metaLen = output.readUInt32LE(0);
  return { meta: JSON.parse(output.subarray(4, 4 + metaLen).toString('utf8')), body: output.subarray(4 + metaLen) };
}

export class ProcessGuest {
  /** `executable` speaks the process transport: fn-guest-process, or ptrace-vmm with the KVM ELF
   * (pass it as `prefixArgs: [elfPath]`). */
  constructor(executable, { memoryMiB = 64, prefixArgs = [] } = {}) {
    this.spawnedAt = process.hrtime.bigint();
    this.child = spawn(executable, [...prefixArgs, '--memory-mib', String(memoryMiB)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.chunks = []; // unread stdout, joined only once a whole frame is there (big bodies stay O(n))
    this.pending = 0;
    this.waiters = [];
    this.exited = null;
    this.child.stdout.on('data', (d) => {
      this.chunks.push(d);
      this.pending += d.length;
      this.#wake();
    });
    this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      this.#wake();
    });
    this.child.stdin.on('error', () => {}); // EPIPE after the guest died: reported via `exited`
  }

  #wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** The first n unread bytes as one Buffer, or null if fewer have arrived. */
  #peek(n) {
    if (this.pending < n) return null;
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }

  #takeFrame() {
    const head = this.#peek(4 + HEADER_SIZE);
    if (!head) return null;
    const header = decodeHeader(head.subarray(4, 4 + HEADER_SIZE));
    const total = 4 + HEADER_SIZE + header.outputLen;
    const all = this.#peek(total);
    if (!all) return null;
    const frame = { event: all.readUInt32LE(0), header, output: Buffer.from(all.subarray(4 + HEADER_SIZE, total)) };
    this.chunks[0] = all.subarray(total);
    this.pending -= total;
    if (this.chunks[0].length === 0) this.chunks.shift();
    return frame;
  }

  /** The next frame, or null after `timeoutMs` (the guest is still busy), or throws if it died. */
  async nextFrame(timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.#takeFrame();
      if (frame) return frame;
      if (this.exited) throw new Error(`guest exited (code ${this.exited.code}, signal ${this.exited.signal})`);
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  send(command, input = Buffer.alloc(0), headerFields = {}) {
    this.child.stdin.write(Buffer.concat([encodeHeader({ command, inputLen: input.length, ...headerFields }), input]));
  }

  /** Sends a command and answers SLEEP frames (sleeping as asked) until DONE or PANIC. */
  async request(command, input, { timeoutMs = 10000, headerFields } = {}) {
    this.send(command, input, headerFields);
    for (;;) {
      const frame = await this.nextFrame(timeoutMs);
      if (!frame) return null;
      if (frame.event !== EVENT.SLEEP) return frame;
      await new Promise((r) => setTimeout(r, Math.min(frame.header.sleepNs / 1e6, timeoutMs)));
      this.send(command, Buffer.alloc(0)); // a fresh header: the guest only takes the new clock
    }
  }

  /** A VMM command (fn_vmm_control.h): sends `input` as JSON and returns {frame, json}. */
  async control(command, input = {}, { timeoutMs = 30000 } = {}) {
    const frame = await this.request(command, Buffer.from(input === null ? '' : JSON.stringify(input)), { timeoutMs });
    if (!frame) throw new Error(`no answer to VMM command 0x${command.toString(16)} within ${timeoutMs} ms`);
    return { frame, json: frame.output.length ? JSON.parse(frame.output.toString()) : null };
  }

  kill() {
    this.child.kill('SIGKILL');
  }
}
