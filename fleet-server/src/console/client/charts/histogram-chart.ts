/**
 * @module console/client/charts/histogram-chart
 * Baseline vs live histograms as SVG bars (a few dozen bins need no chart library): one colour
 * per series, bars side by side per bin, bin ranges on hover, shares as percentages.
 */
import type { HistogramChartData } from './chart-data.js';

const NS = 'http://www.w3.org/2000/svg';
const COLOURS = ['#94a3b8', '#2563eb', '#dc2626', '#059669'];

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function binLabel(data: HistogramChartData, i: number): string {
  if (data.labels) return data.labels[i] ?? String(i);
  const e = data.edges ?? [];
  const f = (v: number | undefined) => (v === undefined ? '?' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
  return `${f(e[i])} – ${f(e[i + 1])}`;
}

export function drawHistogram(host: HTMLElement, data: HistogramChartData): void {
  const bins = Math.max(0, ...data.series.map((s) => s.share.length));
  const width = Math.max(280, host.clientWidth || 480);
  const height = 180;
  const pad = { l: 40, r: 8, t: 8, b: 34 };
  const max = Math.max(1e-9, ...data.series.flatMap((s) => s.share));
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'histogram' });
  const title = el('title', {});
  title.textContent = `Histogram: ${data.series.map((s) => s.label).join(' vs ')}`;
  svg.append(title);
  const plotW = width - pad.l - pad.r;
  const plotH = height - pad.t - pad.b;
  const slot = plotW / Math.max(1, bins);
  const barW = Math.max(1, (slot * 0.85) / Math.max(1, data.series.length));
  data.series.forEach((s, si) => {
    s.share.forEach((v, i) => {
      const h = (v / max) * plotH;
      const rect = el('rect', {
        x: pad.l + i * slot + si * barW,
        y: pad.t + plotH - h,
        width: barW,
        height: Math.max(0, h),
        fill: COLOURS[si % COLOURS.length]!,
      });
      const tip = el('title', {});
      tip.textContent = `${s.label}, ${binLabel(data, i)}: ${(v * 100).toFixed(1)} %`;
      rect.append(tip);
      svg.append(rect);
    });
  });
  const axis = el('line', { x1: pad.l, x2: width - pad.r, y1: pad.t + plotH, y2: pad.t + plotH, class: 'axis' });
  svg.append(axis);
  const top = el('text', { x: pad.l - 4, y: pad.t + 10, 'text-anchor': 'end', class: 'tick' });
  top.textContent = `${(max * 100).toFixed(0)}%`;
  svg.append(top);
  if (bins > 0) {
    for (const i of [0, Math.floor(bins / 2), bins - 1]) {
      const t = el('text', { x: pad.l + i * slot + slot / 2, y: height - 18, 'text-anchor': 'middle', class: 'tick' });
      t.textContent = binLabel(data, i);
      svg.append(t);
    }
  }
  const legend = el('text', { x: pad.l, y: height - 3, class: 'tick' });
  legend.textContent = data.series.map((s, i) => `${['■', '■', '■', '■'][i]} ${s.label}`).join('   ');
  svg.append(legend);
  // Colour the legend squares to match the bars.
  legend.textContent = '';
  data.series.forEach((s, i) => {
    const sw = el('tspan', { fill: COLOURS[i % COLOURS.length]! });
    sw.textContent = '■ ';
    const name = el('tspan', { class: 'tick' });
    name.textContent = `${s.label}   `;
    legend.append(sw, name);
  });
  host.replaceChildren(svg);
}
