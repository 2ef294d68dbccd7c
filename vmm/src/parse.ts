import { ZodError, type ZodType, type output } from 'zod';
import { InvalidInputError } from './errors.js';

/** schema.parse, with a zod failure turned into an InvalidInputError naming the first bad field. */
export function parseOrThrow<T extends ZodType>(schema: T, value: unknown, what: string): output<T> {
  try {
    return schema.parse(value);
  } catch (err) {
    if (err instanceof ZodError) {
      const issue = err.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      throw new InvalidInputError(`invalid ${what}${where}: ${issue?.message ?? 'rejected'}`, { cause: err });
    }
    throw err;
  }
}
