// incremental.mjs — deciding whether an output is up to date: it exists, was made by the same
// command line, and is newer than every input (for objects: every header gcc listed in its .d).

import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** Headers and sources an object depends on, from gcc's -MMD output. */
export function depfileInputs(depfile) {
  if (!existsSync(depfile)) return null;
  const text = readFileSync(depfile, 'utf8').replace(/\\\n/g, ' ');
  const colon = text.indexOf(': ');
  if (colon < 0) return null;
  return text
    .slice(colon + 2)
    .split(/\s+/)
    .filter(Boolean);
}

/** True if `output` must be rebuilt from `inputs` with `command` (an array of arguments). */
export function isStale(output, inputs, command) {
  const built = mtime(output);
  if (built < 0) return true;
  const stamp = `${output}.cmd`;
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== JSON.stringify(command)) return true;
  return inputs.some((input) => {
    const t = mtime(input);
    return t < 0 || t > built;
  });
}

/** Records the command that produced `output`, for the next isStale check. */
export function recordCommand(output, command) {
  writeFileSync(`${output}.cmd`, JSON.stringify(command));
}

export function isNewer(output, inputs) {
  const built = mtime(output);
  return built < 0 || inputs.some((input) => mtime(input) > built);
}
