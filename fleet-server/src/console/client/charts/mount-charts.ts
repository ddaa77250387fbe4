/**
 * @module console/client/charts/mount-charts
 * Draws every `[data-chart]` element of a page from its data island
 * (`data-chart="series|histogram"`, `data-source="<id of a script type=application/json>"`),
 * again after a live region was refreshed, and on resize.
 */
import type { HistogramChartData, SeriesChartData } from './chart-data.js';
import { drawHistogram } from './histogram-chart.js';
import { drawSeriesChart } from './series-chart.js';

function readIsland<T>(id: string | undefined): T | undefined {
  const node = id ? document.getElementById(id) : null;
  if (!node?.textContent) return undefined;
  return JSON.parse(node.textContent) as T;
}

export function mountCharts(root: ParentNode = document): void {
  for (const host of root.querySelectorAll<HTMLElement>('[data-chart]')) {
    try {
      if (host.dataset.chart === 'series') {
        const data = readIsland<SeriesChartData>(host.dataset.source);
        if (data) drawSeriesChart(host, data);
      } else if (host.dataset.chart === 'histogram') {
        const data = readIsland<HistogramChartData>(host.dataset.source);
        if (data) drawHistogram(host, data);
      }
      host.dataset.drawn = 'yes';
    } catch (err) {
      host.textContent = `cannot draw this chart: ${(err as Error).message}`;
    }
  }
}

function start(): void {
  mountCharts();
  document.addEventListener('console:refreshed', (e) => mountCharts(e.target as ParentNode));
  let timer: number | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => mountCharts(), 200);
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
