/**
 * Encoding and decoding of struct fn_window_header (guest/include/fn_abi.h) for the process
 * sandbox, which carries the header over pipes instead of shared memory. Guest-written fields
 * are hostile: decodeGuestHeader only reads them, validation is the caller's job.
 */
import { ABI_VERSION, ENTROPY_BYTES, HeaderOffset as O, WINDOW_HEADER_SIZE, WINDOW_MAGIC } from './abi.js';

export interface HostHeader {
  command: number;
  inputLen: number;
  nowUnixNs: bigint;
  tscKhz: bigint;
  entropy: Buffer;
}

export interface GuestHeader {
  status: number;
  outputLen: number;
  guestNs: bigint;
  heapUsed: bigint;
  heapPeak: bigint;
  sleepNs: bigint;
}

/** Into `into`'s first WINDOW_HEADER_SIZE bytes when given (zeroed first), else a new buffer. */
export function encodeHostHeader(h: HostHeader, into?: Buffer): Buffer {
  if (h.entropy.length !== ENTROPY_BYTES) throw new RangeError(`entropy must be ${ENTROPY_BYTES} bytes`);
  const b = into ?? Buffer.alloc(WINDOW_HEADER_SIZE);
  if (into) b.fill(0, 0, WINDOW_HEADER_SIZE);
  b.writeUInt32LE(WINDOW_MAGIC, O.magic);
  b.writeUInt32LE(ABI_VERSION, O.abiVersion);
  b.writeUInt32LE(h.command, O.command);
  b.writeUInt32LE(h.inputLen, O.inputLen);
  b.writeBigUInt64LE(h.nowUnixNs, O.nowUnixNs);
  b.writeBigUInt64LE(h.tscKhz, O.tscKhz);
  h.entropy.copy(b, O.entropy);
  return b;
}

export function decodeGuestHeader(b: Buffer): GuestHeader {
  return {
    status: b.readUInt32LE(O.status),
    outputLen: b.readUInt32LE(O.outputLen),
    guestNs: b.readBigUInt64LE(O.guestNs),
    heapUsed: b.readBigUInt64LE(O.heapUsed),
    heapPeak: b.readBigUInt64LE(O.heapPeak),
    sleepNs: b.readBigUInt64LE(O.sleepNs),
  };
}
