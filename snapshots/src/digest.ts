/**
 * Content digests ("sha256:<64 hex>") and the page-level helpers that sparse memory files need.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { SnapshotError } from './errors.js';

/** Guest page size: the unit of sparseness, of diffs between layers, and of MAP_PRIVATE sharing. */
export const PAGE_SIZE = 4096;

export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

/** The 64 hex characters of a digest; throws for anything else (digests become file names). */
export function digestHex(digest: string): string {
  if (!isDigest(digest)) throw new SnapshotError(`"${digest}" is not a sha256 digest: expected "sha256:" and 64 lowercase hex characters`);
  return digest.slice('sha256:'.length);
}

export function sha256(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);

/** True if the page-sized (or shorter, at the end) slice is all zeros: a hole in a sparse file. */
export function isZeroPage(buf: Buffer, offset: number, length = PAGE_SIZE): boolean {
  return buf.subarray(offset, offset + length).equals(length === PAGE_SIZE ? ZERO_PAGE : ZERO_PAGE.subarray(0, length));
}

/** Reads a file in large chunks: sequential 1 MiB reads keep the hash near memory speed. */
export const READ_CHUNK = 1 << 20;

/** sha256 of a file's whole logical content (holes count as zeros) and its length. */
export async function hashFile(path: string): Promise<{ digest: Digest; bytes: number }> {
  const hash = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, bytes);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { digest: `sha256:${hash.digest('hex')}`, bytes };
  } finally {
    await fh.close();
  }
}
