// A second file, so the stack has a frame in it.
export function parseCount(text) {
  const n = Number(text);
  if (!(n > 0)) throw new RangeError(`not a positive count: ${text}`);
  return n;
}
