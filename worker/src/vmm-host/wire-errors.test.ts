import { expect, it } from 'vitest';
import { BadResponseError, InvocationTimeoutError } from '@fn/contract';
import { GuestCrashedError, GuestOutOfMemoryError, GuestTimeoutError, FnVmError } from '@fn/vmm';
import { VmLostError } from '../errors.js';
import { WireErrorSchema } from './protocol.js';
import { fromWireError, toWireError } from './wire-errors.js';

const roundTrip = (err: Error) => fromWireError(WireErrorSchema.parse(toWireError(err, { vmClosed: true, notStarted: false })), 4242);

it('rebuilds the same error class with its message and data fields', () => {
  const timeout = roundTrip(new GuestTimeoutError(1500));
  expect(timeout).toBeInstanceOf(GuestTimeoutError);
  expect(timeout).toBeInstanceOf(InvocationTimeoutError);
  expect((timeout as GuestTimeoutError).kind).toBe('timeout');
  expect(timeout.name).toBe('GuestTimeoutError');
  expect(timeout.message).toBe(new GuestTimeoutError(1500).message);
  expect((timeout as GuestTimeoutError).timeoutMs).toBe(1500);
  expect(timeout.stack).toMatch(/VMM host process \(pid 4242\)/);

  const oom = roundTrip(new GuestOutOfMemoryError(64, 'in function f'));
  expect(oom).toBeInstanceOf(GuestOutOfMemoryError);
  expect(oom).toMatchObject({ memoryMiB: 64, detail: 'in function f' });
  expect(roundTrip(new GuestCrashedError('panic', 'x'))).toMatchObject({ reason: 'panic', kind: 'crashed' });
  expect(roundTrip(new VmLostError('gone'))).toMatchObject({ kind: 'unavailable' });
  expect(roundTrip(new VmLostError('gone'))).toBeInstanceOf(VmLostError);
});

it('rebuilds an error of a class it does not know by name from its kind, keeping the name', () => {
  const bad = roundTrip(Object.assign(new BadResponseError('headers too large'), { name: 'SomeNewResponseError' }));
  expect(bad).toBeInstanceOf(BadResponseError);
  expect(bad).toMatchObject({ name: 'SomeNewResponseError', kind: 'bad_response', message: 'headers too large' });
});

it('turns an unknown error name into an FnVmError that keeps the name, never into an arbitrary class', () => {
  const e = new Error('weird');
  e.name = 'constructor';
  const rebuilt = roundTrip(e);
  expect(rebuilt).toBeInstanceOf(FnVmError);
  expect(rebuilt.name).toBe('constructor');
  const proto = fromWireError({ name: '__proto__', message: 'm', fields: {}, vmClosed: false, notStarted: false }, 1);
  expect(proto).toBeInstanceOf(FnVmError);
});

it('refuses field names that could reach prototypes', () => {
  const parsed = WireErrorSchema.safeParse({ name: 'X', message: 'm', fields: { __proto__x: 1, 'a-b': 2 }, vmClosed: false, notStarted: false });
  expect(parsed.success).toBe(false);
});
