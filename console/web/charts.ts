/**
 * The two charts, drawn as SVG by hand: a latency histogram with cold and warm side by side, and
 * warm/busy VMs over time. Sizes are in viewBox units; CSS scales the SVG to its card.
 */
import { s } from './dom.js';
import { formatMs } from './format.js';
import { histogram, median, type Sample } from './histogram.js';

const W = 480;
const H = 180;
const PAD = { left: 36, right: 8, top: 22, bottom: 28 };

function frame(label: string, ...children: SVGElement[]): SVGSVGElement {
  return s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'chart' }, ...children);
}

function text(x: number, y: number, value: string, anchor: 'start' | 'middle' | 'end' = 'middle', cls = 'axis-label'): SVGTextElement {
  return s('text', { x, y, 'text-anchor': anchor, class: cls }, value);
}

export function latencyHistogram(samples: readonly Sample[]): SVGSVGElement {
  if (samples.length === 0) return frame('latency histogram: no invocations yet', text(W / 2, H / 2, 'no invocations yet', 'middle', 'empty'));
  const hist = histogram(samples);
  const bins = hist.cold.length;
  const top = Math.max(1, ...hist.cold, ...hist.warm);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const binW = plotW / bins;
  const barW = Math.max(1, binW / 2 - 1);
  const y = (n: number) => PAD.top + plotH - (n / top) * plotH;
  const bars: SVGElement[] = [];
  for (let i = 0; i < bins; i++) {
    const x = PAD.left + i * binW;
    const range = `${formatMs(hist.edges[i]!)}–${formatMs(hist.edges[i + 1]!)}`;
    for (const [kind, counts, dx] of [
      ['cold', hist.cold, 0.5],
      ['warm', hist.warm, binW / 2],
    ] as const) {
      const n = counts[i]!;
      if (n === 0) continue;
      bars.push(
        s(
          'rect',
          { x: x + dx, y: y(n), width: barW, height: PAD.top + plotH - y(n), class: `bar ${kind}`, 'data-kind': kind, 'data-count': n },
          s('title', null, `${n} ${kind}, ${range}`),
        ),
      );
    }
  }
  const ticks = [0, Math.floor(bins / 2), bins].map((i) =>
    text(PAD.left + i * binW, H - 10, formatMs(hist.edges[i]!), i === 0 ? 'start' : i === bins ? 'end' : 'middle'),
  );
  const coldMedian = median(samples.filter((x) => x.cold).map((x) => x.ms));
  const warmMedian = median(samples.filter((x) => !x.cold).map((x) => x.ms));
  const legend = [
    s('rect', { x: PAD.left, y: 6, width: 10, height: 10, class: 'bar cold' }),
    text(PAD.left + 14, 15, `cold ${coldMedian === null ? '–' : `p50 ${formatMs(coldMedian)}`}`, 'start', 'legend'),
    s('rect', { x: PAD.left + 170, y: 6, width: 10, height: 10, class: 'bar warm' }),
    text(PAD.left + 184, 15, `warm ${warmMedian === null ? '–' : `p50 ${formatMs(warmMedian)}`}`, 'start', 'legend'),
  ];
  return frame(
    'latency histogram, cold and warm',
    s('line', { x1: PAD.left, y1: PAD.top + plotH, x2: W - PAD.right, y2: PAD.top + plotH, class: 'axis' }),
    text(PAD.left - 4, PAD.top + 8, String(top), 'end'),
    text(PAD.left - 4, PAD.top + plotH, '0', 'end'),
    ...legend,
    ...bars,
    ...ticks,
  );
}

export interface PoolPoint {
  at: number;
  idle: number;
  busy: number;
}

/** Warm (idle + busy) and busy VMs over `windowMs` up to `now`, as steps. */
export function poolChart(reported: readonly PoolPoint[], now: number, windowMs: number): SVGSVGElement {
  const from = now - windowMs;
  // Before its first report a pool did not exist: no VMs, drawn as such (the history keeps pools
  // from their first VM on, and a worker reports every second).
  const points = reported.length > 0 && reported[0]!.at > from ? [{ at: from, idle: 0, busy: 0 }, ...reported] : reported;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const top = Math.max(1, ...points.map((p) => p.idle + p.busy));
  const x = (t: number) => PAD.left + ((Math.max(from, t) - from) / windowMs) * plotW;
  const y = (n: number) => PAD.top + plotH - (n / top) * plotH;
  const steps = (value: (p: PoolPoint) => number): string => {
    if (points.length === 0) return '';
    const out: string[] = [];
    points.forEach((p, i) => {
      if (i > 0) out.push(`${x(p.at).toFixed(1)},${y(value(points[i - 1]!)).toFixed(1)}`);
      out.push(`${x(p.at).toFixed(1)},${y(value(p)).toFixed(1)}`);
    });
    out.push(`${x(now).toFixed(1)},${y(value(points.at(-1)!)).toFixed(1)}`);
    return out.join(' ');
  };
  const last = points.at(-1);
  return frame(
    'warm and busy VMs over time',
    s('line', { x1: PAD.left, y1: PAD.top + plotH, x2: W - PAD.right, y2: PAD.top + plotH, class: 'axis' }),
    text(PAD.left - 4, PAD.top + 8, String(top), 'end'),
    text(PAD.left - 4, PAD.top + plotH, '0', 'end'),
    text(PAD.left, H - 10, windowMs < 120_000 ? `−${Math.round(windowMs / 1_000)} s` : `−${Math.round(windowMs / 60_000)} min`, 'start'),
    text(W - PAD.right, H - 10, 'now', 'end'),
    s('rect', { x: PAD.left, y: 6, width: 10, height: 10, class: 'swatch vms' }),
    text(PAD.left + 14, 15, `VMs ${last ? last.idle + last.busy : 0}`, 'start', 'legend'),
    s('rect', { x: PAD.left + 110, y: 6, width: 10, height: 10, class: 'swatch busy' }),
    text(PAD.left + 124, 15, `busy ${last ? last.busy : 0}`, 'start', 'legend'),
    ...(points.length === 0
      ? [text(W / 2, H / 2, 'no VMs reported yet', 'middle', 'empty')]
      : [
          s('polyline', { points: steps((p) => p.idle + p.busy), class: 'line vms', 'data-peak': Math.max(...points.map((p) => p.idle + p.busy)) }),
          s('polyline', { points: steps((p) => p.busy), class: 'line busy' }),
        ]),
  );
}
