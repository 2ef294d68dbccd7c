/** The platform could not start: one message that says what is wrong and what to do. */
export class PlatformStartError extends Error {
  override name = 'PlatformStartError';
}
