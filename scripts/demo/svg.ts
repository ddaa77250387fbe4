/**
 * @module demo/svg
 * Inline SVG plots for the demo report, no library and no script: a line chart over time with
 * vertical event marks (drift onsets, detections, recoveries), on a linear or log y axis, and a
 * histogram comparing distributions on shared bin edges. Every text is XML-escaped.
 */

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Line {
  name: string;
  colour: string;
  /** [x, y]; a null y breaks the line. */
  points: Array<[number, number | null]>;
  width?: number;
  dashed?: boolean;
}

export interface Mark {
  x: number;
  label: string;
  colour: string;
  dashed?: boolean;
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  lines: Line[];
  marks?: Mark[];
  xDomain: [number, number];
  /** Default: 0 to the largest value (linear), or the values' decades (log). */
  yDomain?: [number, number];
  log?: boolean;
  width?: number;
  height?: number;
  /** Formats y tick labels (default: up to 3 significant digits). */
  yFormat?: (v: number) => string;
}

/** Rows of event labels along a chart's top before they may overlap. */
const MARK_ROWS = 4;

/** About how wide a text is in the report's sans-serif at this size, px. */
function textWidth(text: string, size: number): number {
  return text.length * size * 0.56;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : String(+v.toPrecision(3)));

/** About `count` round tick values over [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(+v.toPrecision(6));
    }
  return ticks;
}

export function lineChart(spec: LineChartSpec): string {
  const W = spec.width ?? 900;
  const pad = { left: 64, right: 16, top: 34, bottom: 62 };
  const plotW = W - pad.left - pad.right;
  // The legend runs under the plot, wrapping onto more rows when it is wider than the plot.
  const legend: Array<{ x: number; row: number }> = [];
  let lx = 0;
  let rows = 1;
  for (const l of spec.lines) {
    const w = 25 + textWidth(l.name, 11) + 20;
    if (lx > 0 && lx + w > plotW) {
      rows++;
      lx = 0;
    }
    legend.push({ x: pad.left + lx, row: rows - 1 });
    lx += w;
  }
  const H = (spec.height ?? 320) + (rows - 1) * 16;
  const plotH = H - pad.top - pad.bottom - (rows - 1) * 16;
  const values = spec.lines.flatMap((l) => l.points.map((p) => p[1])).filter((v): v is number => v !== null);
  const positive = values.filter((v) => v > 0);
  let [y0, y1] = spec.yDomain ?? [0, Math.max(1e-9, ...values) * 1.05];
  if (spec.log && !spec.yDomain) {
    y0 = positive.length ? 10 ** Math.floor(Math.log10(Math.min(...positive))) : 1;
    y1 = positive.length ? 10 ** Math.ceil(Math.log10(Math.max(...positive))) : 10;
  }
  const [x0, x1] = spec.xDomain;
  const sx = (x: number) => pad.left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = spec.log
    ? (y: number) =>
        pad.top +
        plotH -
        ((Math.log10(Math.max(y, y0)) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0) || 1)) * plotH
    : (y: number) => pad.top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;
  const yFormat = spec.yFormat ?? fmt;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(spec.title)}" font-family="system-ui, sans-serif" font-size="11">`,
    `<text x="${pad.left}" y="18" font-size="14" font-weight="600">${esc(spec.title)}</text>`,
    `<rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#bbb"/>`,
  );
  for (const v of spec.log ? logTicks(y0, y1) : niceTicks(y0, y1)) {
    const y = sy(v).toFixed(1);
    parts.push(
      `<line x1="${pad.left}" x2="${pad.left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`,
      `<text x="${pad.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555">${esc(yFormat(v))}</text>`,
    );
  }
  for (const v of niceTicks(x0, x1, 10)) {
    const x = sx(v).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${pad.top + plotH}" y2="${pad.top + plotH + 4}" stroke="#888"/>`,
      `<text x="${x}" y="${pad.top + plotH + 16}" text-anchor="middle" fill="#555">${esc(fmt(v))}</text>`,
    );
  }
  parts.push(
    `<text x="${pad.left + plotW / 2}" y="${pad.top + plotH + 32}" text-anchor="middle" fill="#333">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(14 ${pad.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(spec.yLabel)}</text>`,
  );
  // Mark labels along the top, each in the first row where it clears the label before it.
  const rowEnds: number[] = [];
  for (const m of [...(spec.marks ?? [])].sort((a, b) => a.x - b.x)) {
    if (m.x < x0 || m.x > x1) continue;
    const px = sx(m.x);
    const width = textWidth(m.label, 10);
    // Right of its line, or left of it near the chart's right edge.
    const left = px + 3 + width > pad.left + plotW;
    const start = left ? px - 3 - width : px;
    let row = rowEnds.findIndex((end) => end < start);
    if (row < 0) row = rowEnds.length < MARK_ROWS ? rowEnds.length : rowEnds.indexOf(Math.min(...rowEnds));
    rowEnds[row] = left ? px : px + 3 + width;
    const x = px.toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${pad.top}" y2="${pad.top + plotH}" stroke="${m.colour}" stroke-width="1.5"${m.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${esc(m.label)}</title></line>`,
      `<text x="${x}" y="${pad.top + 10 + row * 11}" dx="${left ? -3 : 3}"${left ? ' text-anchor="end"' : ''} fill="${m.colour}" font-size="10">${esc(m.label)}</text>`,
    );
  }
  const clip = `clip${Math.abs(hashText(spec.title))}`;
  parts.push(
    `<clipPath id="${clip}"><rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}"/></clipPath>`,
  );
  for (const [i, l] of spec.lines.entries()) {
    const segments: string[] = [];
    let current = '';
    for (const [x, y] of l.points) {
      if (y === null || (spec.log && y <= 0)) {
        if (current) segments.push(current);
        current = '';
        continue;
      }
      current += `${current ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
    }
    if (current) segments.push(current);
    const single = l.points.filter((p) => p[1] !== null).length === 1;
    for (const d of segments)
      parts.push(
        `<path d="${d}" fill="none" stroke="${l.colour}" stroke-width="${l.width ?? 2}"${l.dashed ? ' stroke-dasharray="4 3"' : ''} clip-path="url(#${clip})"/>`,
      );
    if (single) {
      const [x, y] = l.points.find((p) => p[1] !== null)! as [number, number];
      parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${l.colour}"/>`);
    }
    const { x: legendX, row } = legend[i]!;
    const ly = H - 10 - (rows - 1 - row) * 16;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 20}" y1="${ly}" y2="${ly}" stroke="${l.colour}" stroke-width="${l.width ?? 2}"${l.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${legendX + 25}" y="${ly}" dominant-baseline="middle">${esc(l.name)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export interface HistogramSpec {
  title: string;
  /** Bin edges (n + 1 for n bins). */
  edges: number[];
  series: Array<{ name: string; colour: string; counts: number[]; filled?: boolean }>;
  xLabel: string;
  width?: number;
  height?: number;
}

/** Shares per bin (counts ÷ total) of each series, drawn as steps over the same edges. */
export function histogramChart(spec: HistogramSpec): string {
  const W = spec.width ?? 420;
  const H = spec.height ?? 200;
  const pad = { left: 44, right: 10, top: 30, bottom: 50 };
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;
  const n = spec.edges.length - 1;
  const shares = spec.series.map((s) => {
    const total = s.counts.reduce((a, b) => a + b, 0);
    return s.counts.map((c) => (total > 0 ? c / total : 0));
  });
  const top = Math.max(1e-9, ...shares.flat()) * 1.1;
  // Bins drawn evenly (the edges' outermost bins may be open-ended); labels name their edges.
  const bx = (i: number) => pad.left + (i / Math.max(1, n)) * plotW;
  const sy = (v: number) => pad.top + plotH - (v / top) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(spec.title)}" font-family="system-ui, sans-serif" font-size="10">`,
    `<text x="${pad.left}" y="14" font-size="12" font-weight="600">${esc(spec.title)}</text>`,
    `<rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#bbb"/>`,
  ];
  for (const v of niceTicks(0, top, 3)) {
    const y = sy(v).toFixed(1);
    parts.push(
      `<line x1="${pad.left}" x2="${pad.left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`,
      `<text x="${pad.left - 4}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555">${Math.round(v * 100)}%</text>`,
    );
  }
  const labelEvery = Math.max(1, Math.ceil(n / 6));
  for (let i = 0; i <= n; i += labelEvery) {
    const e = spec.edges[i]!;
    parts.push(
      `<text x="${bx(i).toFixed(1)}" y="${pad.top + plotH + 12}" text-anchor="middle" fill="#555">${esc(Number.isFinite(e) ? fmt(e) : e > 0 ? '∞' : '−∞')}</text>`,
    );
  }
  parts.push(
    `<text x="${pad.left + plotW / 2}" y="${pad.top + plotH + 26}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
  );
  for (const [k, s] of spec.series.entries()) {
    const sh = shares[k]!;
    let d = `M${bx(0).toFixed(1)},${sy(0).toFixed(1)}`;
    for (let i = 0; i < n; i++)
      d += `L${bx(i).toFixed(1)},${sy(sh[i] ?? 0).toFixed(1)}L${bx(i + 1).toFixed(1)},${sy(sh[i] ?? 0).toFixed(1)}`;
    d += `L${bx(n).toFixed(1)},${sy(0).toFixed(1)}`;
    parts.push(
      s.filled
        ? `<path d="${d}Z" fill="${s.colour}" fill-opacity="0.35" stroke="none"/>`
        : `<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.6"/>`,
    );
    const lx = pad.left + k * 130;
    parts.push(
      `<rect x="${lx}" y="${H - 12}" width="12" height="8" fill="${s.colour}"${s.filled ? ' fill-opacity="0.35"' : ''}/>`,
      `<text x="${lx + 16}" y="${H - 5}">${esc(s.name)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function hashText(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}
