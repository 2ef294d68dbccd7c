/**
 * Maps positions in a bundle back to the user's files, for error stacks and logs. QuickJS 2021
 * reports only a line (`at handler (fn:function:380)`), so a position maps to the first segment
 * esbuild recorded on that generated line: the user's file and line, and the column where that
 * line's code starts.
 */
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

interface SourceMapJson {
  sources: string[];
  mappings: string;
}

export interface LineMapping {
  source: string;
  line: number; // 1-based
  column: number; // 1-based
}

/** Generated line (1-based) → where its first segment came from. */
export function parseSourceMap(json: string): Map<number, LineMapping> {
  const map = JSON.parse(json) as SourceMapJson;
  if (map === null || typeof map !== 'object' || typeof map.mappings !== 'string' || !Array.isArray(map.sources)) {
    throw new Error('source map: expected a JSON object with "mappings" (a string) and "sources" (an array)');
  }
  const lines = new Map<number, LineMapping>();
  let source = 0;
  let line = 0;
  let column = 0;
  map.mappings.split(';').forEach((segments, index) => {
    let first = true;
    for (const segment of segments.split(',')) {
      if (segment === '') continue;
      const fields = decodeVlq(segment);
      if (fields.length < 4) continue;
      source += fields[1]!;
      line += fields[2]!;
      column += fields[3]!;
      if (first) {
        lines.set(index + 1, { source: map.sources[source] ?? '?', line: line + 1, column: column + 1 });
        first = false;
      }
    }
  });
  return lines;
}

function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of segment) {
    const digit = DIGIT.get(c);
    if (digit === undefined) throw new Error(`source map: invalid base64 VLQ character ${JSON.stringify(c)}`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** Rewrites every `fn:function:LINE[:COL]` in text to the user's `file:line:column`. */
export function mapStackText(text: string, lines: Map<number, LineMapping>): string {
  return text.replace(/fn:function:(\d+)(?::\d+)?/g, (whole, line: string) => {
    const m = lines.get(Number(line));
    return m ? `${m.source}:${m.line}:${m.column}` : whole;
  });
}
