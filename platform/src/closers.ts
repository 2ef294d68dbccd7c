/**
 * What has been started, to be stopped in reverse order: on close(), and when a later step of the
 * start fails, so a failed start never leaves a VMM host process, a port or a database open.
 */
export class Closers {
  private readonly stack: { what: string; close: () => unknown }[] = [];

  add(what: string, close: () => unknown): void {
    this.stack.push({ what, close });
  }

  /** Closes everything, last started first; a failure is reported and the rest still close. */
  async closeAll(onError: (what: string, error: unknown) => void = () => {}): Promise<void> {
    while (this.stack.length > 0) {
      const { what, close } = this.stack.pop()!;
      try {
        await close();
      } catch (error) {
        onError(what, error);
      }
    }
  }
}
