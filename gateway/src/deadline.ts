/**
 * Nothing hangs: a deployer or invoker that never settles is abandoned after `ms`, with a
 * DeadlineExceededError (504), and told so through the abort signal.
 */
import { DeadlineExceededError } from './errors.js';

export async function withDeadline<T>(what: string, ms: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineExceededError(what, ms);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([run(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
