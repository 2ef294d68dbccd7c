/**
 * Colour only where a person reads it: on a terminal, never when NO_COLOR is set (no-color.org);
 * FORCE_COLOR=1 turns it on for a pipe. The same rule commander applies to the help it prints.
 */
export function colourOn(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR || env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
  if (env.FORCE_COLOR) return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export const bold = (text: string) => `\x1b[1m${text}\x1b[22m`;
export const red = (text: string) => `\x1b[31m${text}\x1b[39m`;
