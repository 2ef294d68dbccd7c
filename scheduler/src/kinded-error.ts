/**
 * A worker's failure as it arrives over the bus (a RemoteError carrying the thrown error's name,
 * message and fields) turned back into an error of its failure kind, or undefined when it has
 * none. The kind is what the gateway answers by, so it must survive every hop.
 */
import { InvocationError, reviveInvocationError } from '@fn/contract';
import { RemoteError } from './bus/errors.js';

export function kindedError(err: unknown): InvocationError | undefined {
  if (err instanceof InvocationError) return err;
  if (!(err instanceof RemoteError)) return undefined;
  const fields = err.code === undefined ? err.details : { ...err.details, code: err.code };
  return reviveInvocationError(err.remoteName, err.message, fields, { cause: err });
}
