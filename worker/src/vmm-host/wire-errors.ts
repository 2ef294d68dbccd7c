/**
 * Errors across the host boundary. The host sends an error's name, message and data fields (its
 * failure kind among them); the worker rebuilds an instance of the same class, so callers keep
 * using `instanceof GuestTimeoutError` and every hop after keeps the kind, whether a VM ran in this
 * process or in a VMM host. A class the worker does not know by name is rebuilt from its kind.
 */
import { errorFields, reviveInvocationError } from '@fn/contract';
import {
  FnVmError,
  GuestCrashedError,
  GuestLoadError,
  GuestOutOfMemoryError,
  GuestTimeoutError,
  InvalidInputError,
  KvmUnavailableError,
  PayloadTooLargeError,
  VmBusyError,
  VmClosedError,
  VmSnapshotError,
} from '@fn/vmm';
import { VmLostError, VmmHostProtocolError, WorkerError } from '../errors.js';
import type { WireError } from './protocol.js';

type AnyErrorClass = abstract new (...args: never[]) => Error;

/** Every class a host may send, by name. Anything else arrives as its kind's class, or a plain FnVmError, keeping its name. */
const KNOWN: Record<string, AnyErrorClass> = {
  FnVmError,
  GuestCrashedError,
  GuestLoadError,
  GuestOutOfMemoryError,
  GuestTimeoutError,
  InvalidInputError,
  KvmUnavailableError,
  PayloadTooLargeError,
  VmBusyError,
  VmClosedError,
  VmSnapshotError,
  VmLostError,
  VmmHostProtocolError,
  WorkerError,
};

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const MAX_TEXT = 64 * 1024;

export function toWireError(err: unknown, flags: { vmClosed: boolean; notStarted: boolean }): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const fields = errorFields(e);
  return {
    name: (e.name || 'Error').slice(0, 200),
    message: e.message.slice(0, MAX_TEXT),
    ...(e.stack ? { stack: e.stack.slice(0, MAX_TEXT) } : {}),
    fields,
    ...flags,
  };
}

/** An instance of the error's own class, carrying the host's message, stack and data fields. */
export function fromWireError(wire: WireError, hostPid: number): Error {
  const stack = `${wire.stack ?? `${wire.name}: ${wire.message}`}\n    at VMM host process (pid ${hostPid})`;
  if (!Object.hasOwn(KNOWN, wire.name)) {
    const byKind = reviveInvocationError(wire.name, wire.message, wire.fields, { stack });
    if (byKind) return byKind;
  }
  const cls = Object.hasOwn(KNOWN, wire.name) ? KNOWN[wire.name]! : FnVmError;
  // The constructors compose their messages from arguments; the host already did that, so the
  // instance is made without calling them and given the host's finished message instead.
  const err = Object.create(cls.prototype) as Error;
  const own = (value: unknown) => ({ value, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(err, 'name', own(wire.name));
  Object.defineProperty(err, 'message', own(wire.message));
  Object.defineProperty(err, 'stack', own(stack));
  for (const [key, value] of Object.entries(wire.fields)) {
    if (FIELD_NAME.test(key)) Object.defineProperty(err, key, { value, enumerable: true, configurable: true });
  }
  return err;
}
