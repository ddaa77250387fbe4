/**
 * @module cli/commands/drift
 * Drift and live error as the fleet server computes them from its rollups: `edgeloop drift`
 * (which versions and devices drift, worst first) and `edgeloop series` (one metric over time).
 */
import { parseMetricName } from '@edgeloop/protocol';
import { scopeTextSchema, type DriftOverviewEntry, type SeriesResponse } from '@edgeloop/protocol/rest';
import {
  UsageError,
  parseDuration,
  parseModelRef,
  parsePositiveInt,
  printJson,
  rejectOperands,
  stringFlag,
  type CommandContext,
  type CommandTable,
} from '../command.js';
import { EMPTY_CELL, formatNumber, formatTimestamp, renderTable } from '../format.js';

const DEFAULT_DRIFT_SINCE = '15m';
const DEFAULT_SERIES_SINCE = '1h';
/** Drifted devices named per version in the table (the rest are counted). */
const DEVICES_SHOWN = 3;

function sinceFlag(raw: string | undefined, fallback: string): number {
  const ms = parseDuration(raw ?? fallback, '--since');
  if (ms <= 0) throw new UsageError(`--since must be longer than 0, got "${raw}"`);
  return Date.now() - ms;
}

function roleFlag(raw: string | undefined): 'serving' | 'shadow' | undefined {
  if (raw === undefined || raw === 'serving' || raw === 'shadow') return raw;
  throw new UsageError(`--role must be serving or shadow, got "${raw}"`);
}

function driftedDevicesCell(e: DriftOverviewEntry): string {
  if (e.driftedDeviceCount === 0) return EMPTY_CELL;
  const named = e.driftedDevices.slice(0, DEVICES_SHOWN).map((d) => `${d.deviceId} (${d.drifted.join(', ')})`);
  const more = e.driftedDeviceCount - named.length;
  return `${e.driftedDeviceCount}: ${named.join('; ')}${more > 0 ? `; +${more} more` : ''}`;
}

function driftedCell(e: DriftOverviewEntry): string {
  if (!e.hasReference) return 'no baseline';
  if (e.drifted.length > 0) return e.drifted.join(', ');
  return e.verdicts.some((v) => v.drifted === false) ? 'none' : 'too few values';
}

async function drift({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'drift');
  const rawLimit = stringFlag(flags, 'limit');
  const body = await connect().driftOverview({
    query: {
      model: stringFlag(flags, 'model'),
      from: sinceFlag(stringFlag(flags, 'since'), DEFAULT_DRIFT_SINCE),
      limit: rawLimit === undefined ? undefined : parsePositiveInt(rawLimit, '--limit'),
      cursor: stringFlag(flags, 'cursor'),
    },
  });
  if (flags.json) return printJson(io, body);
  if (body.versions.length === 0)
    return io.out('no model version has records in this range; widen it with --since (e.g. --since 2h)');
  io.out(
    renderTable(
      ['version', 'role', 'records', 'mae', 'mae/val', 'drifted', 'since', 'devices drifted'],
      body.versions.map((e) => [
        `${e.model}@${e.version}`,
        e.role,
        String(e.count),
        formatNumber(e.error.mae),
        formatNumber(e.error.maeRatio),
        driftedCell(e),
        e.driftingSince === null ? EMPTY_CELL : formatTimestamp(e.driftingSince),
        driftedDevicesCell(e),
      ]),
    ),
  );
  if (body.nextCursor !== null) io.out(`more: edgeloop drift --cursor ${body.nextCursor} (same --model and --since)`);
}

export function renderSeriesTable(s: SeriesResponse): string {
  return renderTable(
    ['time', s.metric, 'samples'],
    s.points.map((p) => [formatTimestamp(p.t), formatNumber(p.value), String(p.samples)]),
  );
}

async function series({ operands, flags, io, connect }: CommandContext): Promise<void> {
  if (operands.length !== 2) throw new UsageError('series takes <model>@<version> <metric>, e.g. distance@2 error.mae');
  const { name, version } = parseModelRef(operands[0]!);
  const metric = operands[1]!;
  try {
    parseMetricName(metric);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const rawScope = stringFlag(flags, 'scope');
  const scope = rawScope === undefined ? undefined : scopeTextSchema.safeParse(rawScope);
  if (scope && !scope.success)
    throw new UsageError(`--scope must be fleet, group:<name> or device:<id>, got "${rawScope}"`);
  const rawStep = stringFlag(flags, 'step');
  const body = await connect().metricSeries({
    query: {
      model: name,
      version,
      metric,
      scope: scope?.data,
      role: roleFlag(stringFlag(flags, 'role')),
      from: sinceFlag(stringFlag(flags, 'since'), DEFAULT_SERIES_SINCE),
      step: rawStep === undefined ? undefined : parseDuration(rawStep, '--step'),
    },
  });
  if (flags.json) return printJson(io, body);
  io.out(renderSeriesTable(body));
}

export const driftCommands: CommandTable = {
  drift: {
    synopsis: '[--model NAME] [--since 15m] [--limit N] [--cursor C]',
    summary: 'which model versions and devices drift, worst first, with live error against validation error',
    options: {
      model: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
    run: drift,
  },
  series: {
    synopsis: '<model>@<version> <metric> [--scope device:ID|group:NAME] [--role shadow] [--since 1h] [--step 1m]',
    summary: 'one metric over time (e.g. error.mae, feature.brightness.psi, output.mean), one row per step',
    options: {
      scope: { type: 'string' },
      role: { type: 'string' },
      since: { type: 'string' },
      step: { type: 'string' },
    },
    run: series,
  },
};
