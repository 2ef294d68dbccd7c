import { describe, expect, it } from 'vitest';
import { HeaderOffset, WINDOW_HEADER_SIZE } from './abi.js';
import { FrameReader } from './frame-reader.js';

function frame(event: number, output: Buffer, status = 0): Buffer {
  const b = Buffer.alloc(4 + WINDOW_HEADER_SIZE);
  b.writeUInt32LE(event, 0);
  b.writeUInt32LE(status, 4 + HeaderOffset.status);
  b.writeUInt32LE(output.length, 4 + HeaderOffset.outputLen);
  return Buffer.concat([b, output]);
}

describe('FrameReader', () => {
  it('splits frames that arrive in arbitrary pieces', () => {
    const bytes = Buffer.concat([frame(1, Buffer.alloc(0)), frame(2, Buffer.from('hello'), 7), frame(2, Buffer.from('x'))]);
    const reader = new FrameReader(1024);
    const got = [];
    for (let i = 0; i < bytes.length; i += 3) got.push(...reader.push(bytes.subarray(i, i + 3)));
    expect(got.map((f) => [f.event, f.output.toString(), f.header.readUInt32LE(HeaderOffset.status)])).toEqual([
      [1, '', 0],
      [2, 'hello', 7],
      [2, 'x', 0],
    ]);
  });

  it('waits for the rest of a frame', () => {
    const reader = new FrameReader(1024);
    const bytes = frame(2, Buffer.from('abcdef'));
    expect(reader.push(bytes.subarray(0, bytes.length - 1))).toEqual([]);
    expect(reader.push(bytes.subarray(bytes.length - 1))[0]!.output.toString()).toBe('abcdef');
  });

  it('refuses an output length beyond the window before buffering it', () => {
    const reader = new FrameReader(1024);
    const b = Buffer.alloc(4 + WINDOW_HEADER_SIZE);
    b.writeUInt32LE(0xffffffff, 4 + HeaderOffset.outputLen);
    expect(() => reader.push(b)).toThrow(/4294967295 output bytes/);
  });

  it('returns frames that do not alias its internal buffer', () => {
    const reader = new FrameReader(1024);
    const [f] = reader.push(frame(2, Buffer.from('keep')));
    reader.push(frame(2, Buffer.from('next')).subarray(0, 10));
    expect(f!.output.toString()).toBe('keep');
  });
});
