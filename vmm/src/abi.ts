/**
 * TypeScript mirror of guest/include/fn_abi.h: the window header layout, doorbell events, commands
 * and statuses. fn_abi.h is the source of truth; abi.test.ts parses it and fails if this file drifts.
 */

import { guestAbiVersion } from '@fn/guest';

/** Written once, in fn_abi.h; @fn/guest reads it from there. */
export const ABI_VERSION = guestAbiVersion;
export const WINDOW_MAGIC = 0x4e57464e;
export const WINDOW_SIZE = 0x800000;
export const WINDOW_DATA_OFFSET = 0x1000;
export const WINDOW_DATA_MAX = WINDOW_SIZE - WINDOW_DATA_OFFSET;
export const WINDOW_HEADER_SIZE = 128;
export const ENTROPY_BYTES = 32;

export enum GuestEvent {
  Ready = 1,
  Done = 2,
  Panic = 3,
  Sleep = 4,
}

export enum GuestCommand {
  None = 0,
  Load = 1,
  Invoke = 2,
}

export enum GuestStatus {
  Ok = 0,
  LoadError = 1,
  OutOfMemory = 2,
  BadInput = 3,
  NotLoaded = 4,
}

/** Byte offsets of struct fn_window_header fields (little endian, naturally aligned). */
export const HeaderOffset = {
  magic: 0,
  abiVersion: 4,
  command: 8,
  inputLen: 12,
  nowUnixNs: 16,
  tscKhz: 24,
  entropy: 32,
  status: 64,
  outputLen: 68,
  guestNs: 72,
  heapUsed: 80,
  heapPeak: 88,
  sleepNs: 96,
} as const;
