/**
 * Puts the bundle positions in an invocation's output (`fn:function:LINE`) back into the user's
 * files, by the source map the bundle was deployed with. Costs nothing when no line names a bundle
 * position (the common case: no map is read), and leaves the text as it is when the deploy sent
 * no map or the map cannot be read (a stack into the bundle beats no record at all).
 */
import { mapStackText } from './source-map.js';
import type { SourceMaps } from './source-map-files.js';

const BUNDLE_POSITION = 'fn:function:';

export async function toUserSource<T extends string | { message: string }>(maps: SourceMaps | undefined, bundleDigest: string, items: T[]): Promise<T[]> {
  if (!maps || !items.some((item) => text(item).includes(BUNDLE_POSITION))) return items;
  let lines;
  try {
    lines = await maps.lines(bundleDigest);
  } catch {
    return items; // a damaged map file: the record keeps the bundle's positions
  }
  if (!lines) return items;
  const table = lines;
  return items.map((item) => {
    if (!text(item).includes(BUNDLE_POSITION)) return item;
    return (typeof item === 'string' ? mapStackText(item, table) : { ...(item as { message: string }), message: mapStackText(text(item), table) }) as T;
  });
}

function text(item: string | { message: string }): string {
  return typeof item === 'string' ? item : item.message;
}
