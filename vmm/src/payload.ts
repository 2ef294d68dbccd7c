/**
 * The window payload encodings of fn_abi.h: `u32 meta_len | meta JSON | bytes`. Encoding checks
 * sizes against the window; decoding treats guest output as hostile and validates every length.
 */
import { WINDOW_DATA_MAX } from './abi.js';
import { GuestCrashedError, PayloadTooLargeError } from './errors.js';
import { InvokeOutputMetaSchema, type InvokeOutputMeta } from './schemas.js';

/**
 * `headroom` bytes are left free at the front for the transport's own framing (the process
 * sandbox's window header), so the bytes are copied once, here, and never again on this side.
 */
export function encodeMetaAndBytes(meta: unknown, bytes: Uint8Array, what: 'request' | 'bundle', headroom = 0): Buffer {
  const metaJson = JSON.stringify(meta);
  const metaLength = Buffer.byteLength(metaJson);
  const total = 4 + metaLength + bytes.length;
  if (total > WINDOW_DATA_MAX) throw new PayloadTooLargeError(what, total, WINDOW_DATA_MAX);
  const out = Buffer.allocUnsafe(headroom + total);
  out.writeUInt32LE(metaLength, headroom);
  out.write(metaJson, headroom + 4, 'utf8');
  out.set(bytes, headroom + 4 + metaLength);
  return out;
}

export function decodeMetaAndBytes(output: Buffer): { metaJson: unknown; bytes: Buffer } {
  if (output.length < 4) throw new GuestCrashedError('bad_output', `the guest wrote ${output.length} output bytes, too few for a result`);
  const metaLen = output.readUInt32LE(0);
  if (metaLen > output.length - 4) {
    throw new GuestCrashedError('bad_output', `the guest's meta length ${metaLen} runs past its ${output.length}-byte output`);
  }
  let metaJson: unknown;
  try {
    metaJson = JSON.parse(output.toString('utf8', 4, 4 + metaLen));
  } catch (err) {
    throw new GuestCrashedError('bad_output', 'the guest wrote meta that is not JSON', { cause: err });
  }
  return { metaJson, bytes: output.subarray(4 + metaLen) };
}

export function decodeInvokeOutput(output: Buffer): { meta: InvokeOutputMeta; body: Buffer } {
  const { metaJson, bytes } = decodeMetaAndBytes(output);
  const parsed = InvokeOutputMetaSchema.safeParse(metaJson);
  if (!parsed.success) {
    throw new GuestCrashedError('bad_output', `the guest wrote invalid result meta: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
  }
  return { meta: parsed.data, body: bytes };
}

export function parseJsonOutput(output: Buffer): unknown {
  try {
    return JSON.parse(output.toString('utf8'));
  } catch (err) {
    throw new GuestCrashedError('bad_output', 'the guest wrote a result that is not JSON', { cause: err });
  }
}
