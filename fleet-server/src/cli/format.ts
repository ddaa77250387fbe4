/**
 * @module cli/format
 * Human-readable output for the `edgeloop` CLI: aligned plain-text tables and compact values
 * (relative times, sizes, short hashes). Everything here is pure so it can be tested without a
 * terminal; `--json` output bypasses this module entirely.
 */
import type { AssignmentStatus, DeviceSummary, SampleSummary, TelemetryRow } from '@edgeloop/protocol';

/** Shown for absent values so table columns never collapse to nothing. */
export const EMPTY_CELL = '-';

const COLUMN_GAP = '  ';

/**
 * Renders rows under a header, left-aligned, columns padded to the widest cell. Trailing spaces
 * are trimmed so copy-pasted output and test snapshots stay clean.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const renderRow = (cells: readonly string[]) =>
    widths
      .map((width, column) => (cells[column] ?? '').padEnd(width))
      .join(COLUMN_GAP)
      .trimEnd();
  return [renderRow(headers), ...rows.map(renderRow)].join('\n');
}

/** "12s ago", "5m ago", "3h ago", "2d ago"; future times (clock skew) read "in 4s". */
export function formatRelativeTime(epochMs: number | null | undefined, now: number = Date.now()): string {
  if (epochMs === null || epochMs === undefined || !Number.isFinite(epochMs)) return 'never';
  const deltaMs = now - epochMs;
  const seconds = Math.round(Math.abs(deltaMs) / 1000);
  if (seconds < 1) return 'just now';
  const span = compactDuration(seconds);
  return deltaMs >= 0 ? `${span} ago` : `in ${span}`;
}

function compactDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  // Up to two days, hours stay more useful than "1d".
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

/** Parses an ISO timestamp from the API and formats it relative to now. */
export function formatRelativeIso(iso: string, now: number = Date.now()): string {
  const epochMs = Date.parse(iso);
  return Number.isNaN(epochMs) ? iso : formatRelativeTime(epochMs, now);
}

/** Local wall-clock time, second precision: operators correlate it with device logs. */
export function formatTimestamp(epochMs: number): string {
  const date = new Date(epochMs);
  if (Number.isNaN(date.getTime())) return EMPTY_CELL;
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

const SIZE_UNITS = ['B', 'KB', 'MB', 'GB'] as const;

/** 1536 → "1.5 KB". Binary multiples, because that is what `ls -lh` shows for the same file. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${SIZE_UNITS[unit]}`;
}

/** Twelve hex digits are plenty to tell versions apart by eye, as with git short hashes. */
export function shortHash(sha256: string): string {
  return sha256.slice(0, 12);
}

/** Up to three decimals, trailing zeros dropped; small magnitudes keep three significant digits. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return EMPTY_CELL;
  const magnitude = Math.abs(value);
  const text = magnitude !== 0 && magnitude < 1 ? value.toPrecision(3) : value.toFixed(3);
  return String(Number(text));
}

export function formatModelRef(name: string, version: number): string {
  return `${name} v${version}`;
}

/** Turns a Node fs error into the short phrase an operator can act on. */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return error instanceof Error ? error.message : String(error);
}

function joinOrEmpty(parts: string[]): string {
  return parts.length > 0 ? parts.join(', ') : EMPTY_CELL;
}

/** "distance v3 rejected: rollback": the code is short enough for a table; --json has the full reason. */
export function formatAssignment(assignment: AssignmentStatus): string {
  const state = `${formatModelRef(assignment.model, assignment.version)} ${assignment.state}`;
  const why = assignment.code ?? assignment.reason;
  return why ? `${state}: ${why}` : state;
}

export function renderDevicesTable(devices: readonly DeviceSummary[], now: number = Date.now()): string {
  const rows = devices.map((device) => [
    device.id,
    device.online ? 'yes' : 'no',
    formatRelativeTime(device.lastSeen, now),
    joinOrEmpty(device.models.map((model) => formatModelRef(model.name, model.version))),
    joinOrEmpty(device.assignments.map(formatAssignment)),
    String(device.backlog),
    String(device.dropped),
    String(device.records),
  ]);
  return renderTable(['DEVICE', 'ONLINE', 'LAST SEEN', 'MODELS', 'ASSIGNED', 'BACKLOG', 'DROPPED', 'RECORDS'], rows);
}

export function renderTelemetryTable(records: readonly TelemetryRow[]): string {
  const rows = records.map((record) => [
    String(record.id),
    formatTimestamp(record.ts),
    record.deviceId,
    record.model,
    record.shadow ? `${record.version} (shadow)` : String(record.version),
    formatNumber(record.prediction),
    formatNumber(record.reference),
    record.requestId ?? EMPTY_CELL,
    record.latencyMs.toFixed(1),
  ]);
  // Reference and request id show the join: which predictions got ground truth, and from what.
  // The id is what `edgeloop lineage <id>` starts from.
  return renderTable(
    ['ID', 'TIME', 'DEVICE', 'MODEL', 'VERSION', 'PREDICTION', 'REFERENCE', 'REQUEST ID', 'LATENCY ms'],
    rows,
  );
}

export function renderSamplesTable(samples: readonly SampleSummary[]): string {
  const rows = samples.map((s) => [
    String(s.id),
    formatTimestamp(s.ts),
    s.deviceId,
    formatModelRef(s.model, s.version),
    s.reason,
    formatNumber(s.prediction),
    formatNumber(s.reference),
    s.contentType,
    formatBytes(s.bytes),
  ]);
  return renderTable(['ID', 'TIME', 'DEVICE', 'MODEL', 'REASON', 'PREDICTION', 'REFERENCE', 'TYPE', 'SIZE'], rows);
}
