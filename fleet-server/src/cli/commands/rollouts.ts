/**
 * @module cli/commands/rollouts
 * `edgeloop rollouts …`: create a rollout with a strategy (direct, staged, canary, ab, shadow),
 * list them, watch one (a progress bar per wave, the gate readings and live error per arm), and
 * pause, resume, abort, roll back or promote it. The server decides everything; this only
 * translates flags into the request and the progress into text.
 */
import {
  ROLLOUT_STATES,
  ROLLOUT_STRATEGIES,
  type CreateRolloutRequest,
  type RolloutDetail,
  type RolloutAction,
  type RolloutDeviceState,
  type RolloutParameters,
  type RolloutState,
  type RolloutStrategy,
  type RolloutTarget,
  type WaveSpec,
} from '@edgeloop/protocol';
import {
  UsageError,
  listFlag,
  parseDuration,
  parseModelRef,
  parsePositiveInt,
  parseTags,
  printJson,
  rejectOperands,
  stringFlag,
  type CliCommand,
  type CommandContext,
  type CommandTable,
  type Flags,
} from '../command.js';
import { formatRelativeTime, renderTable } from '../format.js';

const ACTIVE = new Set(['running', 'paused']);

/** `10%,50%,100%` or `1,5,100%`: cumulative shares (percent) or device counts. */
export function parseWaves(raw: string): WaveSpec[] {
  return raw.split(',').map((part) => {
    const p = part.trim();
    const pct = /^(\d+(?:\.\d+)?)%$/.exec(p);
    if (pct && Number(pct[1]) > 0 && Number(pct[1]) <= 100) return { percent: Number(pct[1]) };
    if (/^[1-9]\d*$/.test(p)) return { count: Number(p) };
    throw new UsageError(
      `--waves takes cumulative shares such as 10%,50%,100% or device counts such as 1,5,100%; "${p}" is neither`,
    );
  });
}

function share(raw: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(raw);
  const value = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(value >= 0 && value <= 1)) throw new UsageError(`${flag} takes a share such as 0.8 or 80%, got "${raw}"`);
  return value;
}

function positiveNumber(raw: string, flag: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} takes a positive number, got "${raw}"`);
  return value;
}

function action(raw: string, flag: string): 'pause' | 'rollback' {
  if (raw !== 'pause' && raw !== 'rollback') throw new UsageError(`${flag} takes pause or rollback, got "${raw}"`);
  return raw;
}

function target(flags: Flags): RolloutTarget {
  const group = stringFlag(flags, 'group');
  const tags = listFlag(flags, 'tag');
  const devices = listFlag(flags, 'device');
  const given = [group !== undefined, tags.length > 0, devices.length > 0].filter(Boolean).length;
  if (given > 1)
    throw new UsageError(
      'choose one target: --group, --tag (repeatable) or --device (repeatable); none means every device',
    );
  if (group !== undefined) return { group };
  if (tags.length) return { tags: parseTags(tags) };
  if (devices.length) return { devices };
  return { all: true };
}

/** Flags → the create request; everything not given is left to the server's documented defaults. */
export function createRequest(operands: string[], flags: Flags): CreateRolloutRequest {
  const [ref, ...extra] = operands;
  if (ref === undefined || extra.length)
    throw new UsageError(
      'rollouts create takes one <name>@<version>, e.g. edgeloop rollouts create distance@3 --strategy staged',
    );
  const { name, version } = parseModelRef(ref);
  const strategy = (stringFlag(flags, 'strategy') ?? 'staged') as RolloutStrategy;
  if (!ROLLOUT_STRATEGIES.includes(strategy))
    throw new UsageError(`--strategy takes ${ROLLOUT_STRATEGIES.join(', ')}, got "${strategy}"`);
  const p: RolloutParameters = {};
  const str = (f: string) => stringFlag(flags, f);
  if (str('waves') !== undefined) p.waves = parseWaves(str('waves')!);
  if (str('wait') !== undefined) p.waitMs = parseDuration(str('wait')!, '--wait');
  const canary = str('canary');
  if (canary !== undefined) {
    const [spec] = parseWaves(canary);
    p.canary = spec!.percent !== undefined ? { percent: spec!.percent } : { count: spec!.count! };
  }
  if (str('ab-percent') !== undefined)
    p.abPercent = share(str('ab-percent')!.replace(/%?$/, '%'), '--ab-percent') * 100;
  if (str('success-threshold') !== undefined)
    p.successThreshold = share(str('success-threshold')!, '--success-threshold');
  if (str('error-threshold') !== undefined) p.errorThreshold = share(str('error-threshold')!, '--error-threshold');
  if (str('error-action') !== undefined) p.errorAction = action(str('error-action')!, '--error-action');
  if (str('min-devices') !== undefined) p.minDevices = parsePositiveInt(str('min-devices')!, '--min-devices');
  if (str('device-timeout') !== undefined)
    p.deviceTimeoutMs = parseDuration(str('device-timeout')!, '--device-timeout');
  if (str('max-downloads') !== undefined)
    p.maxConcurrentDownloads = parsePositiveInt(str('max-downloads')!, '--max-downloads');
  const live: NonNullable<RolloutParameters['liveError']> = {};
  if (str('max-error-ratio') !== undefined)
    live.maxErrorRatio = positiveNumber(str('max-error-ratio')!, '--max-error-ratio');
  if (str('min-records') !== undefined) live.minRecords = parsePositiveInt(str('min-records')!, '--min-records');
  if (Object.keys(live).length) p.liveError = live;
  if (str('max-psi') !== undefined) p.drift = { maxPsi: positiveNumber(str('max-psi')!, '--max-psi') };
  const promoteTo = str('promote-to');
  if (promoteTo !== undefined) {
    if (promoteTo !== 'direct' && promoteTo !== 'staged' && promoteTo !== 'canary')
      throw new UsageError(`--promote-to takes direct, staged or canary, got "${promoteTo}"`);
    p.promoteTo = { strategy: promoteTo };
  }
  const reason = str('reason');
  return {
    model: name,
    version,
    strategy,
    target: target(flags),
    ...(Object.keys(p).length ? { parameters: p } : {}),
    ...(reason ? { reason } : {}),
  };
}

async function create({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const req = createRequest(operands, flags);
  const body = await connect().createRollout({ body: req });
  if (flags.json) return printJson(io, body);
  const r = body.rollout;
  io.out(
    `rollout ${r.id}: ${r.model} v${r.version} (${r.strategy}) to ${r.devices} device(s) in ${r.waveCount} wave(s), ${r.state}`,
  );
  io.out(`watch it with: edgeloop rollouts status ${r.id} --watch`);
}

async function list({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'rollouts list');
  const model = stringFlag(flags, 'model') || undefined;
  const state = stringFlag(flags, 'state') || undefined;
  if (state !== undefined && !(ROLLOUT_STATES as readonly string[]).includes(state))
    throw new UsageError(`--state takes ${ROLLOUT_STATES.join(', ')}, got "${state}"`);
  const body = await connect().listRollouts({ query: { model, state: state as RolloutState | undefined } });
  if (flags.json) return printJson(io, body);
  if (body.rollouts.length === 0)
    return io.out('no rollouts yet; start one with: edgeloop rollouts create <name>@<version> --strategy staged');
  const rows = body.rollouts.map((r) => [
    r.id,
    `${r.model} v${r.version}`,
    r.strategy,
    r.state + (r.holding ? ' (holding)' : ''),
    `${Math.min(r.currentWave + 1, r.waveCount)}/${r.waveCount}`,
    `${(r.counts.active ?? 0) + (r.counts.healthy ?? 0)}/${r.devices}`,
    formatRelativeTime(r.createdAt),
    r.reason ?? '',
  ]);
  io.out(renderTable(['ID', 'MODEL', 'STRATEGY', 'STATE', 'WAVE', 'ACTIVE', 'CREATED', 'REASON'], rows));
}

const BAR = 24;

export function progressBar(done: number, total: number): string {
  const filled = total === 0 ? BAR : Math.round((done / total) * BAR);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
}

const SHOWN: RolloutDeviceState[] = [
  'pending',
  'assigned',
  'downloading',
  'verified',
  'failed',
  'rejected',
  'timed-out',
  'rolled-back',
  'skipped',
];
const num = (x: number | null) =>
  x === null ? 'n/a' : Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x);

export function renderStatus(d: RolloutDetail): string {
  const r = d.rollout;
  const lines = [
    `${r.id}  ${r.model} v${r.version}${r.baselineVersion ? ` (baseline v${r.baselineVersion})` : ''}  ${r.strategy}${r.role === 'shadow' ? ' (shadow)' : ''}  ` +
      `${r.state}${r.holding ? ', holding: promote or abort' : ''}  wave ${Math.min(r.currentWave + 1, r.waveCount)}/${r.waveCount}`,
  ];
  if (r.reason) lines.push(`  reason: ${r.reason}`);
  if (Object.keys(r.rollbackVersions).length) {
    lines.push(
      `  rolled back: ${Object.entries(r.rollbackVersions)
        .map(([from, to]) => `v${from} re-released as v${to}`)
        .join(', ')}`,
    );
  }
  for (const w of d.waves) {
    const ok = (w.counts.active ?? 0) + (w.counts.healthy ?? 0);
    const rest = SHOWN.filter((s) => w.counts[s]).map((s) => `${w.counts[s]} ${s}`);
    if (w.offline) rest.push(`${w.offline} offline`);
    const when = w.passedAt ? 'passed' : w.startedAt ? 'in progress' : 'waiting';
    lines.push(
      `  wave ${w.index + 1}  ${progressBar(ok, w.size)} ${ok}/${w.size} active${rest.length ? `, ${rest.join(', ')}` : ''}  (${when})`,
    );
  }
  const mark = { pass: '✔', fail: '✖', waiting: '…', insufficient: '?', off: '-' } as const;
  lines.push(`  gates (wave ${Math.min(r.currentWave + 1, r.waveCount)}):`);
  for (const g of d.gates) lines.push(`    ${mark[g.status]} ${g.gate.padEnd(10)} ${g.detail}`);
  const { candidate: c, baseline: b, ratio } = d.liveError;
  lines.push(
    `  live error: candidate v${c.version} MAE ${num(c.mae)} (${c.records} records) vs baseline${b.version ? ` v${b.version}` : ''} MAE ${num(b.mae)} (${b.records} records), ratio ${num(ratio)}`,
  );
  return lines.join('\n');
}

async function status({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [id, ...extra] = operands;
  if (id === undefined || extra.length)
    throw new UsageError('rollouts status takes one rollout id, e.g. edgeloop rollouts status ro-1a2b3c4d');
  const client = connect();
  for (;;) {
    const detail = await client.getRollout({ params: { id } });
    if (flags.json) printJson(io, detail);
    else io.out(renderStatus(detail));
    if (!flags.watch || !ACTIVE.has(detail.rollout.state)) return;
    await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
    if (!flags.json) io.out('');
  }
}

export const WATCH_INTERVAL_MS = 2000;

function operator(verb: RolloutAction) {
  return async ({ operands, flags, io, connect }: CommandContext): Promise<void> => {
    const [id, ...extra] = operands;
    if (id === undefined || extra.length)
      throw new UsageError(`rollouts ${verb} takes one rollout id, e.g. edgeloop rollouts ${verb} ro-1a2b3c4d`);
    const reason = stringFlag(flags, 'reason');
    const body = await connect().rolloutAction({ params: { id, verb }, body: reason ? { reason } : {} });
    if (flags.json) return printJson(io, body);
    const r = body.rollout;
    const extraInfo = Object.keys(r.rollbackVersions).length
      ? `; ${Object.entries(r.rollbackVersions)
          .map(([f, t]) => `v${f} re-released as v${t}`)
          .join(', ')}`
      : '';
    io.out(`rollout ${r.id} (${r.model} v${r.version}) is now ${r.state}${extraInfo}`);
  };
}

const str: NonNullable<CliCommand['options']>[string] = { type: 'string' };
const reasonOption = { reason: str };

export const rolloutCommands: CommandTable = {
  'rollouts create': {
    synopsis:
      '<name>@<version> [--strategy direct|staged|canary|ab|shadow] [--waves 10%,50%,100%] [--wait 5m] [--group G | --tag k=v... | --device ID...]\n' +
      '      [--max-error-ratio R] [--min-records N] [--success-threshold S] [--error-threshold E] [--error-action pause|rollback] [--min-devices N]\n' +
      '      [--canary 5%|N] [--ab-percent P] [--promote-to direct|staged|canary] [--device-timeout 30m] [--max-downloads N] [--max-psi P] [--reason R]',
    summary:
      'roll a version out with health gates (default staged 10%,50%,100% to every device; live error vs reference values, failures → rollback)',
    options: {
      strategy: str,
      waves: str,
      wait: str,
      canary: str,
      'ab-percent': str,
      group: str,
      tag: { type: 'string', multiple: true },
      device: { type: 'string', multiple: true },
      'max-error-ratio': str,
      'min-records': str,
      'success-threshold': str,
      'error-threshold': str,
      'error-action': str,
      'min-devices': str,
      'device-timeout': str,
      'max-downloads': str,
      'max-psi': str,
      'promote-to': str,
      ...reasonOption,
    },
    run: create,
  },
  'rollouts list': {
    synopsis: '[--model N] [--state S]',
    summary: 'list rollouts, newest first',
    options: { model: str, state: str },
    run: list,
  },
  'rollouts status': {
    synopsis: '<id> [--watch]',
    summary: 'progress per wave, gate readings and live error per arm',
    options: { watch: { type: 'boolean' } },
    run: status,
  },
  'rollouts pause': {
    synopsis: '<id> [--reason R]',
    summary: 'stop assigning and advancing (devices keep being tracked)',
    options: reasonOption,
    run: operator('pause'),
  },
  'rollouts resume': {
    synopsis: '<id> [--reason R]',
    summary: 'carry on; present failures are acknowledged, live error judged afresh',
    options: reasonOption,
    run: operator('resume'),
  },
  'rollouts abort': {
    synopsis: '<id> [--reason R]',
    summary: 'stop for good; devices keep what they have (a shadow is removed)',
    options: reasonOption,
    run: operator('abort'),
  },
  'rollouts rollback': {
    synopsis: '<id> [--reason R]',
    summary: 'return every device given the candidate to its previous version (re-released)',
    options: reasonOption,
    run: operator('rollback'),
  },
  'rollouts promote': {
    synopsis: '<id> [--reason R]',
    summary: 'ab: go to 100 %; shadow: roll the candidate out for real',
    options: reasonOption,
    run: operator('promote'),
  },
};
