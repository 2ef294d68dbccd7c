/**
 * The one set of limits of an invocation. Every hop uses these numbers and no other: the gateway
 * refuses a request over them, the VM layer refuses a response over them, and the wire schemas
 * (schemas.ts) bound what may cross a process boundary with them.
 */

export const LIMITS = {
  /** Lambda's synchronous payload limit, each way: request body and response body. */
  bodyBytes: 6 * 1024 * 1024,
  /** Headers of one request or one response. */
  headerCount: 256,
  /**
   * Every header name and value of one message, added up. 16 KiB is what Node's HTTP server accepts
   * in a request and what Node's HTTP clients accept in a response: anything larger would fail at
   * one end of the connection anyway, so fn says so clearly instead.
   */
  headerBytes: 16 * 1024,
  headerNameBytes: 256,
  /** The path and query a function sees. */
  urlBytes: 16 * 1024,
  methodBytes: 32,
  /** The handler's env: env vars plus secrets. */
  envEntries: 1024,
  envNameBytes: 256,
  envValueBytes: 64 * 1024,
  /** Console lines kept per invocation (the guest's window bounds their bytes). */
  logLines: 100_000,
  /**
   * A deployed bundle (UTF-8 source). The bundle reaches the guest through its 8 MiB shared window
   * (8 MiB − 4 KiB of data, vmm/src/abi.ts WINDOW_DATA_MAX) together with the load's metadata, so
   * this is 8 MiB − 64 KiB: every bundle under it fits the window. Measured on the ptrace backend
   * (issue 13): a 7.9 MiB bundle loads in 128 MiB; code that large may still need more memoryMiB
   * (a clear out_of_memory at deploy), and the guest has no other size limit of its own.
   */
  bundleBytes: 8 * 1024 * 1024 - 64 * 1024,
  /**
   * A function's init (its module's top-level code) at deploy, whatever its timeoutMs (as Lambda's
   * 10 s init): a spinning init must not hold a core for up to 15 minutes after its client left.
   */
  initTimeoutMs: 10_000,
  memoryMiB: { min: 16, max: 1024 },
  timeoutMs: { min: 1, max: 15 * 60 * 1000 },
  maxConcurrency: { min: 1, max: 100_000 },
} as const;

/** Bytes of a header list as the limits count them: names and values, UTF-8. */
export function headerBytes(headers: readonly (readonly [string, string])[]): number {
  let total = 0;
  for (const [name, value] of headers) total += Buffer.byteLength(name) + Buffer.byteLength(value);
  return total;
}
