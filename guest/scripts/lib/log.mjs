// log.mjs — the build's progress lines ("guest: compiling quickjs.c") and its error type.

export function log(message) {
  process.stdout.write(`guest: ${message}\n`);
}

/** A build failure whose message says what to do; build.mjs prints it without a stack. */
export class GuestBuildError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'GuestBuildError';
  }
}
