// The trace crosses process boundaries (NATS, the VMM host's channel) in the invocation contract:
// the schemas take fn's own version-00 traceparent and refuse anything else, so a malformed value
// never reaches a log line or the guest.
import { describe, expect, it } from 'vitest';
import { InvocationRequestSchema, VmRequestSchema } from './schemas.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const vmRequest = { method: 'GET', url: '/', headers: [], body: new Uint8Array(0), invocationId: 'inv-1', env: {} };
const invocation = {
  invocationId: 'inv-1',
  tenant: 'acme',
  function: 'api',
  version: 1,
  snapshotKey: 'sha256:abc',
  env: {},
  request: { method: 'GET', url: '/', headers: [], body: new Uint8Array(0) },
  limits: { timeoutMs: 1000, memoryMiB: 64, maxConcurrency: 10 },
};

describe('traceparent in the invocation contract', () => {
  it('is optional, and kept as it is when present', () => {
    expect(InvocationRequestSchema.parse(invocation).traceparent).toBeUndefined();
    expect(InvocationRequestSchema.parse({ ...invocation, traceparent: TRACEPARENT }).traceparent).toBe(TRACEPARENT);
    expect(VmRequestSchema.parse({ ...vmRequest, traceparent: TRACEPARENT }).traceparent).toBe(TRACEPARENT);
  });

  it.each([TRACEPARENT.toUpperCase(), `${TRACEPARENT}-x`, '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x'.repeat(55), ''])(
    'refuses %j at a process boundary',
    (value) => {
      expect(InvocationRequestSchema.safeParse({ ...invocation, traceparent: value }).success).toBe(false);
      expect(VmRequestSchema.safeParse({ ...vmRequest, traceparent: value }).success).toBe(false);
    },
  );
});
