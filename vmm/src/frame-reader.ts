/**
 * Splits the process guest's stdout into frames: u32 event | 128-byte window header | output.
 * The guest is hostile: an output length over the window's data area is refused before any
 * byte of it is buffered, so a lying guest cannot make the host allocate without bound.
 */
import { HeaderOffset, WINDOW_HEADER_SIZE } from './abi.js';

export interface GuestFrame {
  event: number;
  header: Buffer;
  output: Buffer;
}

const PREFIX_BYTES = 4 + WINDOW_HEADER_SIZE;

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxOutputBytes: number) {}

  /** Adds bytes; returns every frame now complete. Throws on a frame that breaks the protocol. */
  push(chunk: Buffer): GuestFrame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: GuestFrame[] = [];
    for (;;) {
      if (this.buffered < PREFIX_BYTES) break;
      const prefix = this.peek(PREFIX_BYTES);
      const outputLen = prefix.readUInt32LE(4 + HeaderOffset.outputLen);
      if (outputLen > this.maxOutputBytes) {
        throw new Error(`the guest announced ${outputLen} output bytes, more than the ${this.maxOutputBytes}-byte window`);
      }
      if (this.buffered < PREFIX_BYTES + outputLen) break;
      const frame = this.take(PREFIX_BYTES + outputLen);
      frames.push({
        event: frame.readUInt32LE(0),
        header: frame.subarray(4, PREFIX_BYTES),
        output: frame.subarray(PREFIX_BYTES),
      });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    // Copy the frame out so the caller never holds a view into a buffer we keep appending to.
    const frame = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return frame;
  }
}
