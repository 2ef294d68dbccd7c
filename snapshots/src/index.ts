export {
  SnapshotError,
  SnapshotTruncatedError,
  SnapshotCorruptError,
  SnapshotMagicError,
  SnapshotVersionError,
  SnapshotMemoryFileError,
  SnapshotNotFoundError,
  SnapshotTransferError,
} from './errors.js';
export { PAGE_SIZE, sha256, hashFile, isDigest, type Digest } from './digest.js';
export {
  STATE_MAGIC,
  FORMAT_VERSION,
  StatePayloadSchema,
  encodeStateFile,
  decodeStateFile,
  type FormatVersion,
  type StatePayload,
  type StatePayloadInput,
  type MemoryLayer,
  type DecodedStateFile,
} from './state-file.js';
export {
  SnapshotStore,
  DEFAULT_GRACE_MS,
  type StoreOptions,
  type LoadOptions,
  type LoadedSnapshot,
  type LoadedLayer,
  type GcOptions,
  type GcReport,
  type DiskUsage,
} from './store.js';
export { packForTransfer, unpackFromTransfer, type PackOptions, type UnpackResult } from './transfer.js';
export { decodePagesFile, decodeCpuEnvelope, type PagesFile, type CpuFileEnvelope } from './snapshot-files.js';
export { archiveSnapshot, materializeSnapshot, readPageRuns, type VmSnapshotDir, type ArchiveKind, type MaterializedSnapshot } from './vm-archive.js';
