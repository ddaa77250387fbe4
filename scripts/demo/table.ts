/**
 * @module demo/table
 * The demo's terminal output: a results table that grows a row as each phase ends (the header
 * first, so the columns are known while the run is still going), and the closing summary with
 * the acceptance checks. `--json` prints the same results as one JSON object per line instead.
 */
import type { DemoSummary, PhaseResult } from './demo-result.js';

const COLUMNS = [
  { title: 'phase', width: 16 },
  { title: 'MAE before', width: 11 },
  { title: 'MAE after', width: 10 },
  { title: 'detect', width: 7 },
  { title: 'recover', width: 8 },
  { title: 'version', width: 8 },
  { title: 'outcome', width: 14 },
] as const;

const cell = (text: string, width: number, right: boolean) => (right ? text.padStart(width) : text.padEnd(width));

function line(cells: readonly string[]): string {
  return cells
    .map((c, i) => cell(c, COLUMNS[i]!.width, i > 0 && i < 6))
    .join('  ')
    .trimEnd();
}

const mm = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(1)} mm`);
const secs = (v: number | null) => (v === null ? '—' : `${v.toFixed(0)} s`);

export function tableHeader(): string[] {
  return [line(COLUMNS.map((c) => c.title)), line(COLUMNS.map((c) => '─'.repeat(c.title.length)))];
}

export function tableRow(r: PhaseResult): string {
  return line([
    `${r.phase} ${r.name}`,
    mm(r.maeBefore),
    mm(r.maeAfter),
    secs(r.detectS),
    secs(r.recoverS),
    r.version === null ? '—' : `v${r.version}`,
    r.outcome,
  ]);
}

/** The closing lines: phase 1's MAE, each check with ✔ or ✘, the time compression and durations. */
export function summaryLines(s: DemoSummary): string[] {
  const out = [
    '',
    `phase 1 MAE ${mm(s.phase1Mae)} (validation ${mm(s.phase1ValidationMae)}); ${s.devices} cars, seed ${s.seed}, time ×${s.timeScale}: ${s.simSeconds.toFixed(0)} simulated seconds in ${s.wallSeconds.toFixed(0)} s wall`,
    `frames: ${s.frames.predicted} answered, ${s.frames.failed} refused, ${s.frames.skipped} skipped (a car behind the compressed clock)`,
  ];
  for (const c of s.checks) out.push(`${c.passed ? '✔' : '✘'} ${c.name}: ${c.detail}`);
  out.push(s.accepted ? 'accepted: every check passed' : 'NOT accepted: see the checks marked ✘ above');
  if (s.report) out.push(`report: ${s.report}`);
  return out;
}

/** The `--json` line of a phase: the table's numbers plus ids and times, no bulky step lists. */
export function phaseJson(r: PhaseResult): string {
  const { steps: _steps, gate, ...rest } = r;
  return JSON.stringify({ ...rest, gate: gate ? { verdict: gate.verdict, reasons: gate.reasons } : null });
}
