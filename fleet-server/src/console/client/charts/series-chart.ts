/**
 * @module console/client/charts/series-chart
 * Time series with uPlot (it draws 100k+ points in a few ms): lines per series, rule thresholds
 * as dashed horizontal lines, onsets and deployments as labelled vertical marks, x in the
 * browser's zone.
 */
import uPlot from 'uplot';
import type { SeriesChartData } from './chart-data.js';

const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#be185d'];
const MARK_COLOUR: Record<string, string> = {
  onset: '#dc2626',
  deploy: '#2563eb',
  rollback: '#d97706',
  resolve: '#059669',
  other: '#6b7280',
};

function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

export function drawSeriesChart(host: HTMLElement, data: SeriesChartData): uPlot {
  const ink = cssVar(host, '--ink-2', '#4b5563');
  const grid = cssVar(host, '--line', '#e5e7eb');
  const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
  const width = Math.max(280, host.clientWidth || 640);
  const opts: uPlot.Options = {
    width,
    height: 260,
    ms: 1,
    legend: { live: true },
    scales: { x: { time: data.xTime !== false } },
    axes: [
      { ...axis, label: data.xLabel },
      { ...axis, label: data.yLabel, size: 60 },
    ],
    series: [
      {},
      ...data.series.map((s, i) => ({
        label: s.unit ? `${s.label} (${s.unit})` : s.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        ...(s.dashed ? { dash: [6, 4] } : {}),
        spanGaps: false,
      })),
    ],
    hooks: {
      draw: [
        (u: uPlot) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
          // uPlot leaves the axes' alignment set; labels start at the point they are drawn at.
          ctx.textAlign = 'left';
          ctx.textBaseline = 'alphabetic';
          for (const t of data.thresholds ?? []) {
            const y = u.valToPos(t.value, 'y', true);
            if (!Number.isFinite(y)) continue;
            ctx.strokeStyle = '#dc2626';
            ctx.setLineDash([4, 4]);
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
            ctx.fillStyle = '#dc2626';
            ctx.fillText(t.label, u.bbox.left + 4, y - 4);
          }
          for (const [i, m] of (data.marks ?? []).entries()) {
            const x = u.valToPos(m.at, 'x', true);
            if (!Number.isFinite(x) || x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = MARK_COLOUR[m.kind] ?? '#6b7280';
            ctx.setLineDash(m.kind === 'onset' ? [2, 3] : []);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillStyle = ctx.strokeStyle;
            // Near the right edge the label goes left of its line, so it stays inside the plot.
            const nearRight = x > u.bbox.left + u.bbox.width * 0.75;
            ctx.textAlign = nearRight ? 'right' : 'left';
            // Three rows of labels, so marks close together do not print over each other.
            ctx.fillText(m.label, nearRight ? x - 3 : x + 3, u.bbox.top + (12 + (i % 3) * 13) * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
  const rows = [data.x, ...data.series.map((s) => s.values)] as uPlot.AlignedData;
  host.replaceChildren();
  return new uPlot(opts, rows, host);
}
