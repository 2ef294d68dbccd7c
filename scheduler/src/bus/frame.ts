/**
 * How a bus value becomes bytes on a wire and back, with binary kept binary: the value's tree goes
 * as JSON with every Uint8Array replaced by a reference, and the bytes themselves follow the JSON
 * raw, so a 6 MB body costs 6 MB on the wire (not 8 MB of base64, not 20 MB of JSON numbers).
 *
 *   u8 version (1) | u32 json length | json | u32 segment count | u32 length × count | segments
 *
 * All integers little-endian. In the JSON a reference is {"$b": index}; so that no real object can
 * pass for one, every object key that starts with "$" gets one more "$" on the way out and loses it
 * on the way in. Everything else is JSON's semantics (undefined fields vanish).
 */

export const FRAME_VERSION = 1;

export class FrameError extends Error {
  override name = 'FrameError';
}

/** Encodes a value: the JSON tree plus its byte segments, in one buffer. */
export function encodeFrame(value: unknown): Uint8Array {
  const segments: Uint8Array[] = [];
  const json = Buffer.from(JSON.stringify(toTree(value, segments)) ?? 'null');
  const size = 1 + 4 + json.length + 4 + 4 * segments.length + segments.reduce((n, s) => n + s.byteLength, 0);
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(FRAME_VERSION, 0);
  at = out.writeUInt32LE(json.length, at);
  at += json.copy(out, at);
  at = out.writeUInt32LE(segments.length, at);
  for (const s of segments) at = out.writeUInt32LE(s.byteLength, at);
  for (const s of segments) {
    out.set(s, at);
    at += s.byteLength;
  }
  return out;
}

/**
 * Decodes a frame. Byte fields arrive as Uint8Arrays that view their own copy of the bytes (never
 * the transport's buffer, which it may reuse). Throws FrameError for anything that is not a frame.
 */
export function decodeFrame(frame: Uint8Array): unknown {
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const need = (n: number, what: string) => {
    if (n > buf.length) throw new FrameError(`truncated frame: ${what} runs past its ${buf.length} bytes`);
  };
  need(5, 'the header');
  if (buf.readUInt8(0) !== FRAME_VERSION)
    throw new FrameError(`frame version ${buf.readUInt8(0)}, expected ${FRAME_VERSION}: both ends must run the same bus version`);
  const jsonLength = buf.readUInt32LE(1);
  let at = 5;
  need(at + jsonLength + 4, 'the JSON part');
  const jsonText = buf.toString('utf8', at, at + jsonLength);
  at += jsonLength;
  const count = buf.readUInt32LE(at);
  at += 4;
  need(at + 4 * count, 'the segment table');
  const lengths: number[] = [];
  for (let i = 0; i < count; i++, at += 4) lengths.push(buf.readUInt32LE(at));
  const segments: Uint8Array[] = [];
  for (const length of lengths) {
    need(at + length, 'a byte segment');
    segments.push(new Uint8Array(buf.subarray(at, at + length))); // A copy: the caller owns it.
    at += length;
  }
  if (at !== buf.length) throw new FrameError(`frame has ${buf.length - at} bytes after its last segment`);
  let tree: unknown;
  try {
    tree = JSON.parse(jsonText);
  } catch (error) {
    throw new FrameError(`frame JSON does not parse: ${(error as Error).message}`);
  }
  return fromTree(tree, segments);
}

function toTree(value: unknown, segments: Uint8Array[]): unknown {
  if (value instanceof Uint8Array) {
    segments.push(value);
    return { $b: segments.length - 1 };
  }
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : toTree(v, segments)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[key.startsWith('$') ? `$${key}` : key] = toTree(v, segments);
    }
    return out;
  }
  return value;
}

function fromTree(tree: unknown, segments: Uint8Array[]): unknown {
  if (Array.isArray(tree)) return tree.map((v) => fromTree(v, segments));
  if (tree !== null && typeof tree === 'object') {
    const entries = Object.entries(tree);
    if (entries.length === 1 && entries[0]![0] === '$b') {
      const index = entries[0]![1];
      const segment = typeof index === 'number' ? segments[index] : undefined;
      if (!segment) throw new FrameError(`frame refers to byte segment ${String(index)}, which it does not hold`);
      return segment;
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      // defineProperty: a key "__proto__" from the wire must stay data, never become a prototype.
      Object.defineProperty(out, key.startsWith('$') ? key.slice(1) : key, {
        value: fromTree(v, segments),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return tree;
}
