// Property-based fuzzing (fast-check) of the TypeScript half of the host's parser of what a guest
// writes (issue 13, deliverable 3): the process transport's frames (FrameReader), the result's
// `u32 meta_len | meta JSON | body` (decodeInvokeOutput), the response limits, and the gateway's
// translation into an HTTP response — the path a hostile function's output travels. The native
// half (the window report, snapshot files) is fuzzed with libFuzzer: vmm/native/fuzz/.
// Every input must end in a result or in the typed error that the chain maps to a clean status
// (GuestCrashedError → function_crashed, BadResponseError → bad_response), never in anything else.
// FN_FUZZ_RUNS for more runs per property (default 1500).
import { BadResponseError, checkResponseLimits, LIMITS } from '@fn/contract';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { functionResponse } from '../../../gateway/src/invoke-io.js';
import { HeaderOffset, WINDOW_DATA_MAX, WINDOW_HEADER_SIZE } from '../../../vmm/src/abi.js';
import { GuestCrashedError } from '../../../vmm/src/errors.js';
import { FrameReader } from '../../../vmm/src/frame-reader.js';
import { decodeInvokeOutput } from '../../../vmm/src/payload.js';
import { InvokeOutputMetaSchema } from '../../../vmm/src/schemas.js';

const RUNS = Number(process.env.FN_FUZZ_RUNS) || 1500;
const PREFIX = 4 + WINDOW_HEADER_SIZE;

/** A frame as the ptrace VMM writes it: u32 event | window header | output. */
function frame(event: number, output: Buffer, header?: Uint8Array): Buffer {
  const h = Buffer.alloc(WINDOW_HEADER_SIZE);
  if (header) h.set(header.subarray(0, WINDOW_HEADER_SIZE));
  h.writeUInt32LE(output.length, HeaderOffset.outputLen);
  const b = Buffer.alloc(PREFIX + output.length);
  b.writeUInt32LE(event, 0);
  h.copy(b, 4);
  output.copy(b, PREFIX);
  return b;
}

/** Cuts a buffer at the given points (mod its length), in order. */
function split(b: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => (b.length === 0 ? 0 : c % (b.length + 1))))].sort((x, y) => x - y);
  const parts: Buffer[] = [];
  let from = 0;
  for (const c of [...at, b.length]) {
    parts.push(b.subarray(from, c));
    from = c;
  }
  return parts;
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

/** Result outputs as the runtime writes them, and the ways a poisoned runtime could bend them. */
const headerPair = fc.tuple(fc.string({ maxLength: 40, unit: 'binary' }), fc.string({ maxLength: 80, unit: 'binary' }));
const validMeta = fc.record({
  status: fc.integer({ min: 200, max: 599 }),
  headers: fc.array(headerPair, { maxLength: 8 }),
  logs: fc.array(fc.record({ level: fc.constantFrom('log', 'info', 'warn', 'error', 'debug'), message: fc.string({ maxLength: 50 }), ms: fc.double() }), {
    maxLength: 4,
  }),
});
const anyMeta = fc.oneof(validMeta, fc.jsonValue(), fc.record({ status: fc.anything(), headers: fc.anything(), logs: fc.anything() }));
function resultOutput(meta: unknown, body: Buffer, lie: number | undefined): Buffer {
  const json = Buffer.from(JSON.stringify(meta) ?? 'undefined');
  const out = Buffer.alloc(4 + json.length + body.length);
  out.writeUInt32LE(lie === undefined ? json.length : lie >>> 0, 0);
  json.copy(out, 4);
  body.copy(out, 4 + json.length);
  return out;
}
const outputs = fc.oneof(
  bytes(300),
  // Over the response limits: more headers than an HTTP response may carry, or a status out of range.
  fc
    .tuple(fc.integer({ min: 240, max: 300 }), fc.integer({ min: 100, max: 700 }))
    .map(([n, status]) => resultOutput({ status, headers: Array.from({ length: n }, (_, i) => [`x-h${i}`, String(i)]), logs: [] }, Buffer.alloc(0), undefined)),
  fc.tuple(anyMeta, bytes(200), fc.option(fc.integer(), { nil: undefined })).map(([m, b, lie]) => resultOutput(m, b, lie)),
  // A valid result with a few bytes flipped.
  fc.tuple(validMeta, bytes(100), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([m, b, flips]) => {
    const out = resultOutput(m, b, undefined);
    for (const [at, v] of flips) out[at % out.length] = v;
    return out;
  }),
);

describe('guest output, fuzzed through the host chain', () => {
  it('FrameReader: any byte stream in any chunks gives whole frames or one clear refusal, never a frame over the window', () => {
    fc.assert(
      fc.property(fc.array(bytes(400), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 0, max: 512 }), (pieces, cuts, max) => {
        const stream = Buffer.concat(pieces);
        const reader = new FrameReader(max);
        let consumed = 0;
        try {
          for (const chunk of split(stream, cuts)) {
            for (const f of reader.push(chunk)) {
              expect(f.output.length).toBeLessThanOrEqual(max);
              expect(f.header.readUInt32LE(HeaderOffset.outputLen)).toBe(f.output.length);
              // Frames are exactly the stream's bytes, in order, nothing skipped or repeated.
              expect(
                Buffer.concat([stream.subarray(consumed, consumed + 4), f.header, f.output]).equals(
                  stream.subarray(consumed, consumed + PREFIX + f.output.length),
                ),
              ).toBe(true);
              consumed += PREFIX + f.output.length;
            }
          }
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          expect((err as Error).message).toMatch(/^the guest announced \d+ output bytes, more than the \d+-byte window$/);
          // Refused only for a length the reader had in front of it.
          expect(stream.readUInt32LE(consumed + 4 + HeaderOffset.outputLen)).toBeGreaterThan(max);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('FrameReader: well-formed frames cut anywhere come out whole and unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), bytes(300), fc.uint8Array({ minLength: WINDOW_HEADER_SIZE, maxLength: WINDOW_HEADER_SIZE })), { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (specs, cuts) => {
          const frames = specs.map(([event, output, header]) => frame(event >>> 0, output, header));
          const reader = new FrameReader(WINDOW_DATA_MAX);
          const got = split(Buffer.concat(frames), cuts).flatMap((c) => reader.push(c));
          expect(got.map((f) => Buffer.concat([Buffer.from(new Uint32Array([f.event]).buffer), f.header, f.output]))).toEqual(frames);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('result output: decoded and within the limits, or GuestCrashedError (bad_output) / BadResponseError — and the gateway answers it', () => {
    const seen = { answered: 0, bad_output: 0, bad_response: 0 };
    fc.assert(
      fc.property(outputs, fc.constantFrom('GET', 'HEAD', 'POST'), (output, method) => {
        let decoded: ReturnType<typeof decodeInvokeOutput>;
        try {
          decoded = decodeInvokeOutput(output);
        } catch (err) {
          expect(err).toBeInstanceOf(GuestCrashedError);
          expect((err as GuestCrashedError).reason).toBe('bad_output');
          seen.bad_output++;
          return;
        }
        expect(InvokeOutputMetaSchema.safeParse(decoded.meta).success).toBe(true);
        expect(decoded.body.length).toBeLessThanOrEqual(output.length - 4);
        const response = { status: decoded.meta.status, headers: decoded.meta.headers, body: decoded.body };
        try {
          checkResponseLimits(response);
        } catch (err) {
          expect(err).toBeInstanceOf(BadResponseError);
          seen.bad_response++;
          return;
        }
        // Whatever header names and values the guest wrote, the gateway builds a response.
        const http = functionResponse(response, method);
        expect(http.status).toBe(response.status);
        // At most the function's own headers, plus the gateway's default content-type for a body
        // whose headers named none (what Node would send on the wire anyway).
        const named = new Set(response.headers.map(([name]) => name.toLowerCase()));
        const added = [...http.headers.keys()].filter((name) => !named.has(name));
        expect(added.filter((name) => name !== 'content-type')).toEqual([]);
        expect([...http.headers.keys()].length - added.length).toBeLessThanOrEqual(LIMITS.headerCount);
        seen.answered++;
      }),
      { numRuns: RUNS },
    );
    // The generators reach both sides of the parser, or the property says little.
    console.info(`guest output outcomes over ${RUNS} runs: ${JSON.stringify(seen)}`);
    expect(seen.answered).toBeGreaterThan(0);
    expect(seen.bad_output).toBeGreaterThan(0);
    expect(seen.bad_response).toBeGreaterThan(0);
  });
});
