/**
 * Reading request bodies without ever holding more than the limit: a declared Content-Length over
 * the limit is refused before a byte is read, and a streamed body (chunked, or lying about its
 * length) is counted as it arrives and cancelled at the first byte past the limit.
 */
import { BadRequestError, PayloadTooLargeError } from './errors.js';

export async function readBody(request: Request, limit: number, what: string): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (!/^[0-9]+$/.test(declared.trim())) throw new BadRequestError(`Content-Length "${declared}" is not a byte count`);
    if (Number(declared) > limit) throw new PayloadTooLargeError(what, limit);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      // Tell the sender to stop; what was read so far is dropped with the chunks.
      await reader.cancel().catch(() => undefined);
      throw new PayloadTooLargeError(what, limit);
    }
    chunks.push(value);
  }
  return concat(chunks, total);
}

/** A JSON body: an empty body reads as undefined, so schemas decide whether one is required. */
export async function readJson(request: Request, limit: number): Promise<unknown> {
  const bytes = await readBody(request, limit, 'request body');
  if (bytes.byteLength === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new BadRequestError('the request body is not valid UTF-8 JSON — send Content-Type: application/json with a JSON document');
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
