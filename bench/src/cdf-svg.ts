/**
 * A latency CDF chart as a standalone SVG: one line per system, latency on a log-scale x axis,
 * the fraction of requests answered within it on y. Written by hand: no chart library.
 */

export interface Series {
  label: string;
  samples: number[];
}

const COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666', '#1f78b4'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function cdfSvg(title: string, series: Series[]): string {
  const shown = series.filter((s) => s.samples.length > 0);
  const W = 860;
  const H = 440;
  const m = { left: 60, right: 250, top: 40, bottom: 50 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = shown.flatMap((s) => s.samples).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...all, 1)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all, 10)));
  const x = (ms: number) => m.left + ((Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * pw;
  const y = (f: number) => m.top + (1 - f) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let d = lo; d <= hi; d *= 10) {
    const label = d >= 1000 ? `${d / 1000} s` : `${d} ms`;
    out.push(`<line x1="${x(d)}" y1="${m.top}" x2="${x(d)}" y2="${m.top + ph}" stroke="#ddd"/>`);
    out.push(`<text x="${x(d)}" y="${m.top + ph + 16}" text-anchor="middle">${label}</text>`);
  }
  for (const f of [0, 0.25, 0.5, 0.75, 0.9, 0.99, 1]) {
    out.push(`<line x1="${m.left}" y1="${y(f)}" x2="${m.left + pw}" y2="${y(f)}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 6}" y="${y(f) + 4}" text-anchor="end">${f}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">latency per request (log scale)</text>`);
  out.push(`<text x="16" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + ph / 2})">fraction of requests</text>`);
  shown.forEach((s, i) => {
    const all = [...s.samples].sort((a, b) => a - b);
    const n = all.length;
    // Past 500 samples, draw every (n/500)th one: the same curve, a smaller file.
    const step = Math.max(1, Math.ceil(n / 500));
    const sorted = all.filter((_, k) => k % step === step - 1 || k === n - 1);
    const at = (k: number) => Math.min(n, (k + 1) * step);
    // A step line: at each sample the fraction rises by 1/n.
    let d = `M${x(sorted[0]!).toFixed(1)},${y(0).toFixed(1)}`;
    sorted.forEach((v, k) => {
      d += ` L${x(v).toFixed(1)},${y((k === 0 ? 0 : at(k - 1)) / n).toFixed(1)} L${x(v).toFixed(1)},${y(k === sorted.length - 1 ? 1 : at(k) / n).toFixed(1)}`;
    });
    const color = COLORS[i % COLORS.length]!;
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${m.left + pw + 14}" y1="${ly}" x2="${m.left + pw + 34}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${m.left + pw + 40}" y="${ly + 4}">${esc(s.label)} (n=${n})</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
