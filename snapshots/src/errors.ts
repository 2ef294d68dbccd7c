/**
 * One error class per way a snapshot can be refused. Every message says what to do next, because
 * the person reading it is usually an operator looking at a worker log, not the author of this code.
 */

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** The state file (or a blob) ends before its header says it should. */
export class SnapshotTruncatedError extends SnapshotError {
  override name = 'SnapshotTruncatedError';
}

/** The bytes are all there but are not what was written: CRC or digest mismatch, invalid payload. */
export class SnapshotCorruptError extends SnapshotError {
  override name = 'SnapshotCorruptError';
}

/** Not a state file at all (or one from an unrelated tool). */
export class SnapshotMagicError extends SnapshotError {
  override name = 'SnapshotMagicError';
}

/** A state file written by a format major version this build cannot read. */
export class SnapshotVersionError extends SnapshotError {
  override name = 'SnapshotVersionError';
  constructor(
    message: string,
    readonly found: { major: number; minor: number },
    readonly supported: { major: number; minor: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A memory layer is missing, hashes to another digest, or is shorter than the guest memory. The
 * last case matters most: mapping a short file MAP_PRIVATE and touching a page past its end kills
 * the whole VMM process with SIGBUS, taking every VM in it down.
 */
export class SnapshotMemoryFileError extends SnapshotError {
  override name = 'SnapshotMemoryFileError';
  constructor(
    message: string,
    readonly reason: 'missing' | 'size' | 'digest' | 'unnamed',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No blob or snapshot with that digest in the store (never written, or garbage-collected). */
export class SnapshotNotFoundError extends SnapshotError {
  override name = 'SnapshotNotFoundError';
}

/** A transfer pack is malformed or its content does not match the digests it announces. */
export class SnapshotTransferError extends SnapshotError {
  override name = 'SnapshotTransferError';
}
