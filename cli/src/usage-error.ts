/** A command was called the wrong way: print the message (usually the usage line) and exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
