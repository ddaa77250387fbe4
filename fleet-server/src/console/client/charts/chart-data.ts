/**
 * @module console/client/charts/chart-data
 * What a page puts in a chart's data island. Shared by the server (which writes it) and the
 * browser (which draws it); plain data, no functions.
 */
export interface SeriesChartData {
  /** x values: epoch milliseconds (or plain numbers, e.g. training epochs, with `xTime: false`). */
  x: number[];
  /** false: x is a plain number axis, not time; default true. */
  xTime?: boolean;
  xLabel?: string;
  series: Array<{ label: string; values: Array<number | null>; unit?: string; dashed?: boolean }>;
  /** Horizontal lines: rule thresholds. */
  thresholds?: Array<{ label: string; value: number }>;
  /** Vertical lines: drift onsets, deployments, rollbacks. */
  marks?: Array<{ at: number; label: string; kind: 'onset' | 'deploy' | 'rollback' | 'resolve' | 'other' }>;
  yLabel?: string;
}

export interface HistogramChartData {
  /** Bin edges (n+1 for n bins) — or labels for categorical bins. */
  edges?: number[];
  labels?: string[];
  series: Array<{ label: string; share: number[] }>;
  xLabel?: string;
}
