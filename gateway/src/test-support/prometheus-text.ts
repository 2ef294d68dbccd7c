/**
 * Reads the Prometheus text exposition format (what GET /metrics answers) into samples, for tests
 * that check series move by the right amounts. Enough of the format for prom-client's output:
 * comments, `name{label="value",...} number` lines, escaped quotes, backslashes and newlines.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match) throw new Error(`not a sample line of the Prometheus text format: ${line}`);
    samples.push({ name: match[1]!, labels: parseLabels(match[2] ?? ''), value: parseValue(match[3]!) });
  }
  return samples;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y;
  let read = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    read = pattern.lastIndex;
  }
  if (read !== text.length) throw new Error(`labels not in the Prometheus text format: {${text}}`);
  return labels;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  const value = Number(text);
  if (Number.isNaN(value) && text !== 'NaN') throw new Error(`not a sample value: ${text}`);
  return value;
}

/** The sum of the samples of `name` whose labels include `labels` (0 when there are none). */
export function sumOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((total, s) => total + s.value, 0);
}

/** Whether any sample of `name` has labels including `labels`. */
export function hasSeries(samples: Sample[], name: string, labels: Record<string, string> = {}): boolean {
  return samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
