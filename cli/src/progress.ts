/**
 * Progress for a step that can take seconds (bundling, building a snapshot): on a terminal the
 * line counts the seconds in place; in a pipe or a log it is the plain line it always was, so
 * scripts and tests read the same text as before.
 */
export interface Progress {
  /** Ends the step's line (on a terminal: stops the count, leaving its last value). */
  done(suffix?: string): void;
}

export function startProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) {
    stream.write(`${label}\n`);
    return { done: () => undefined };
  }
  const started = Date.now();
  stream.write(label);
  const timer = setInterval(() => stream.write(`\r${label} ${Math.round((Date.now() - started) / 1000)} s`), 1000);
  return {
    done(suffix = '') {
      clearInterval(timer);
      stream.write(`\r\x1b[K${label} ${((Date.now() - started) / 1000).toFixed(1)} s${suffix}\n`);
    },
  };
}
