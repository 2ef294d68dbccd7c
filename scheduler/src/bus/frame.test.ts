import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, FrameError } from './frame.js';

describe('bus frames', () => {
  it('round-trips a tree with byte fields, and carries the bytes raw (no base64, no JSON numbers)', () => {
    const body = new Uint8Array(100_000).map((_, i) => i % 251);
    const value = { text: 'hi', n: 7, ok: true, none: null, list: [1, 'two', { body }], nested: { empty: new Uint8Array(0) } };
    const frame = encodeFrame(value);
    expect(frame.byteLength).toBeLessThan(body.byteLength + 200);
    const back = decodeFrame(frame) as typeof value;
    expect(back).toEqual(value);
    expect(back.list[2]).toMatchObject({ body: expect.any(Uint8Array) });
    expect(Buffer.from((back.list[2] as { body: Uint8Array }).body).equals(Buffer.from(body))).toBe(true);
  });

  it('gives the receiver its own copy of the bytes', () => {
    const frame = encodeFrame({ body: new Uint8Array([1, 2, 3]) });
    const back = decodeFrame(frame) as { body: Uint8Array };
    frame.fill(0);
    expect([...back.body]).toEqual([1, 2, 3]);
  });

  it('keeps object keys that look like its own references as data', () => {
    const env = { $b: '0', $$x: 'y', __proto__x: 'z' };
    const value = { env, arr: [{ $b: 1 }] };
    expect(decodeFrame(encodeFrame(value))).toEqual(value);
  });

  it('keeps a "__proto__" key from the wire as data, never as a prototype', () => {
    const json = Buffer.from('{"__proto__":{"polluted":true}}');
    const frame = Buffer.alloc(1 + 4 + json.length + 4);
    frame.writeUInt8(1, 0);
    frame.writeUInt32LE(json.length, 1);
    json.copy(frame, 5);
    const back = decodeFrame(frame) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect((back as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(back)).toEqual(['__proto__']);
  });

  it('refuses what is not a frame with a FrameError', () => {
    expect(() => decodeFrame(new Uint8Array([]))).toThrow(FrameError);
    expect(() => decodeFrame(new Uint8Array([9, 0, 0, 0, 0]))).toThrow(/version 9/);
    const frame = encodeFrame({ body: new Uint8Array(10) });
    expect(() => decodeFrame(frame.subarray(0, frame.byteLength - 1))).toThrow(/truncated/);
    const json = Buffer.from('{"a":{"$b":3}}');
    const bad = Buffer.alloc(1 + 4 + json.length + 4);
    bad.writeUInt8(1, 0);
    bad.writeUInt32LE(json.length, 1);
    json.copy(bad, 5);
    expect(() => decodeFrame(bad)).toThrow(/segment 3/);
  });
});
