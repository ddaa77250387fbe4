/**
 * @module cli/commands/loop
 * `edgeloop loop list|show <id>|trigger <model>|cancel <id>` and
 * `edgeloop loop policy list|get <model>|set <file.json|yaml>|delete <model>`: the retraining
 * loop's runs (newest first, --before pages) and its policy per model. `policy get` prints the
 * policy as JSON that `policy set` takes back.
 */
import { describeZodError } from '@edgeloop/protocol';
import {
  LOOP_RUN_STATES,
  loopPolicySchema,
  type GateComparison,
  type HoldoutComparison,
  type LoopPolicy,
  type LoopPolicyView,
  type LoopRun,
  type LoopRunState,
} from '@edgeloop/protocol/rest';
import { readDataFile } from '../data-file.js';
import { CliError } from '../api-client.js';
import {
  UsageError,
  parsePositiveInt,
  printJson,
  rejectOperands,
  stringFlag,
  type CliCommand,
  type CommandContext,
  type CommandTable,
} from '../command.js';
import { EMPTY_CELL, formatNumber, formatTimestamp, renderTable, shortHash } from '../format.js';

const POLICY_FILE_EXAMPLE =
  '{"model": "distance", "triggers": [{"kind": "incident", "rules": ["drift"]}], "gate": {"minImprovement": 0.1}, "guards": {"maxRunsPerDay": 4}}';

/** A policy file: JSON or YAML, one policy or a list; each checked here before anything is sent. */
export function readPolicyFile(path: string): LoopPolicy[] {
  const raw = readDataFile(path, 'the policy file');
  return (Array.isArray(raw) ? raw : [raw]).map((entry, i) => {
    const parsed = loopPolicySchema.safeParse(entry);
    if (!parsed.success)
      throw new CliError(
        `the policy file ${path}${Array.isArray(raw) ? ` (policy ${i + 1})` : ''} is invalid: ${describeZodError(parsed.error)}; write e.g. ${POLICY_FILE_EXAMPLE}`,
      );
    return parsed.data;
  });
}

/** 950 → "950ms", 72_000 → "1m 12s", 7_500_000 → "2h 05m". */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

const time = (ms: number | null) => (ms === null ? EMPTY_CELL : formatTimestamp(ms));
const span = (from: number | null, to: number | null, now: number) =>
  from === null ? EMPTY_CELL : `${formatDurationMs((to ?? now) - from)}${to === null ? ' so far' : ''}`;
const version = (v: number | null) => (v === null ? EMPTY_CELL : `v${v}`);

/** "incident in-… (drift)", "manual by ops", "schedule". */
function triggerText(t: LoopRun['trigger']): string {
  if (t.kind === 'incident') return `incident ${t.incidentId ?? '?'}${t.rule ? ` (${t.rule})` : ''}`;
  if (t.kind === 'manual') return `manual by ${t.actor}`;
  return t.kind;
}

export function renderLoopRunsTable(runs: readonly LoopRun[], now = Date.now()): string {
  return renderTable(
    ['ID', 'MODEL', 'STATE', 'STEP', 'TRIGGER', 'CHAMPION → VERSION', 'CREATED', 'DURATION'],
    runs.map((r) => [
      r.id,
      r.model,
      r.state,
      r.step,
      triggerText(r.trigger),
      `${version(r.champion)} → ${version(r.version)}`,
      formatTimestamp(r.createdAt),
      span(r.createdAt, r.finishedAt, now),
    ]),
  );
}

const pct = (x: number) => `${formatNumber(x * 100)} %`;

function renderGate(g: GateComparison): string[] {
  const side = (name: string, h: HoldoutComparison | null) =>
    h === null
      ? [name, '0', EMPTY_CELL, EMPTY_CELL, EMPTY_CELL, 'no holdout']
      : [
          name,
          String(h.count),
          formatNumber(h.champion.mae),
          formatNumber(h.challenger.mae),
          formatNumber(h.ratio),
          h.passed === null ? 'too few to judge' : h.passed ? 'yes' : 'no',
        ];
  return [
    `gate: champion ${g.champion.model} v${g.champion.version} against challenger run ${g.challenger.trainingRunId} (model ${shortHash(g.challenger.modelSha256)}), evaluated ${formatTimestamp(g.evaluatedAt)}`,
    `  needs: challenger MAE ≤ ${pct(1 - g.minImprovement)} of the champion's on recent data, ≤ ${pct(1 + g.originalTolerance)} on the original holdout`,
    renderTable(
      ['HOLDOUT', 'COUNT', 'CHAMPION MAE', 'CHALLENGER MAE', 'RATIO', 'PASSED'],
      [side('recent', g.recent), side('original', g.original)],
    )
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n'),
    `verdict: ${g.verdict}`,
    ...g.reasons.map((r) => `  - ${r}`),
  ];
}

export function renderLoopRun(r: LoopRun, now = Date.now()): string {
  const t = r.trigger;
  const lines = [
    `loop run ${r.id} (${r.state}, step ${r.step}): ${r.model}, champion ${version(r.champion)}`,
    `trigger: ${triggerText(t)}, by ${t.actor} at ${formatTimestamp(t.at)}` +
      (t.onset !== null ? `, drift since ${formatTimestamp(t.onset)}` : '') +
      (t.devices.length ? `, devices ${t.devices.join(', ')}` : '') +
      (t.reason ? `: ${t.reason}` : ''),
    `created ${formatTimestamp(r.createdAt)}, ` +
      (r.finishedAt === null
        ? `running for ${formatDurationMs(now - r.createdAt)}`
        : `finished ${formatTimestamp(r.finishedAt)} after ${span(r.createdAt, r.finishedAt, now)}`),
  ];
  if (r.reason) lines.push(`reason: ${r.reason}`);
  lines.push(
    `dataset ${r.datasetId ?? EMPTY_CELL}, training job ${r.trainingJobId ?? EMPTY_CELL}, training run ${r.trainingRunId ?? EMPTY_CELL}, version ${version(r.version)}, rollout ${r.rolloutId ?? EMPTY_CELL}`,
    '',
    renderTable(
      ['STEP', 'STATUS', 'STARTED', 'FINISHED', 'DURATION', 'OUTCOME'],
      r.steps.map((s) => [
        s.name,
        s.status,
        time(s.startedAt),
        time(s.finishedAt),
        span(s.startedAt, s.finishedAt, now),
        s.outcome ?? '',
      ]),
    ),
  );
  if (r.gate) lines.push('', ...renderGate(r.gate));
  return lines.join('\n');
}

async function loopList({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'loop list');
  const state = stringFlag(flags, 'state');
  if (state !== undefined && !(LOOP_RUN_STATES as readonly string[]).includes(state))
    throw new UsageError(`--state must be one of ${LOOP_RUN_STATES.join(', ')}`);
  const model = stringFlag(flags, 'model');
  const limit = stringFlag(flags, 'limit');
  const before = stringFlag(flags, 'before');
  const body = await connect().listLoopRuns({
    query: {
      ...(model !== undefined ? { model } : {}),
      ...(state !== undefined ? { state: state as LoopRunState } : {}),
      ...(limit !== undefined ? { limit: parsePositiveInt(limit, '--limit') } : {}),
      ...(before !== undefined ? { before: parsePositiveInt(before, '--before') } : {}),
    },
  });
  if (flags.json) return printJson(io, body);
  io.out(renderLoopRunsTable(body.runs));
  if (body.next !== null) io.out(`more: edgeloop loop list --before ${body.next}`);
}

async function loopShow({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [id, ...extra] = operands;
  if (id === undefined || extra.length) throw new UsageError('loop show takes one loop run id (edgeloop loop list)');
  const body = await connect().getLoopRun({ params: { id } });
  if (flags.json) return printJson(io, body);
  io.out(renderLoopRun(body.run));
}

async function loopTrigger({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [model, ...extra] = operands;
  if (model === undefined || extra.length)
    throw new UsageError('loop trigger takes one model name, e.g. edgeloop loop trigger distance --reason "new site"');
  const reason = stringFlag(flags, 'reason');
  const body = await connect().triggerLoopRun({
    params: { model },
    body: { force: flags.force === true, ...(reason !== undefined ? { reason } : {}) },
  });
  if (flags.json) return printJson(io, body);
  io.out(
    `loop run ${body.run.id} started for ${model} (step ${body.run.step}); follow it with edgeloop loop show ${body.run.id}`,
  );
}

async function loopCancel({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [id, ...extra] = operands;
  if (id === undefined || extra.length) throw new UsageError('loop cancel takes one loop run id (edgeloop loop list)');
  const reason = stringFlag(flags, 'reason');
  const body = await connect().cancelLoopRun({ params: { id }, body: reason !== undefined ? { reason } : {} });
  if (flags.json) return printJson(io, body);
  io.out(`loop run ${body.run.id} ${body.run.state} at step ${body.run.step}`);
}

/** "incident (drift), schedule every 1h" */
function triggersText(p: LoopPolicy): string {
  return (
    p.triggers
      .map((t) =>
        t.kind === 'incident'
          ? `incident${t.rules ? ` (${t.rules.join(', ')})` : ''}`
          : t.kind === 'schedule'
            ? `schedule every ${formatDurationMs(t.everyMs)}`
            : `data (${t.minNewSamples} new samples)`,
      )
      .join(', ') || 'manual only'
  );
}

function policySummary(p: LoopPolicy): string {
  return (
    `triggers ${triggersText(p)}; gate ≥ ${pct(p.gate.minImprovement)} better on recent data, ≤ ${pct(p.gate.originalTolerance)} worse on the original holdout; ` +
    `rollout ${p.rollout.strategy}; at most ${p.guards.maxRunsPerDay} automatic runs a day, ${formatDurationMs(p.guards.cooldownMs)} cool-down` +
    (p.enabled ? '' : '; disabled')
  );
}

const policyRow = ({ policy: p, updatedAt, updatedBy }: LoopPolicyView) => [
  p.model,
  p.enabled ? 'yes' : 'no',
  triggersText(p),
  p.rollout.strategy,
  String(p.guards.maxRunsPerDay),
  formatDurationMs(p.guards.cooldownMs),
  formatTimestamp(updatedAt),
  updatedBy,
];

async function loopPolicy({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [verb, arg, ...extra] = operands;
  const usage = () =>
    new UsageError(
      'loop policy takes list, get <model>, set <file.json|file.yaml> or delete <model>, e.g. edgeloop loop policy get distance',
    );
  if (verb === 'list') {
    if (arg !== undefined) throw usage();
    const body = await connect().listLoopPolicies();
    if (flags.json) return printJson(io, body);
    io.out(
      renderTable(
        ['MODEL', 'ENABLED', 'TRIGGERS', 'ROLLOUT', 'RUNS/DAY', 'COOL-DOWN', 'UPDATED', 'BY'],
        body.policies.map(policyRow),
      ),
    );
    return;
  }
  if (arg === undefined || extra.length) throw usage();
  if (verb === 'get') {
    const body = await connect().getLoopPolicy({ params: { model: arg } });
    return printJson(io, flags.json ? body : body.policy.policy);
  }
  if (verb === 'set') {
    const client = connect();
    const stored: LoopPolicyView[] = [];
    for (const policy of readPolicyFile(arg))
      stored.push((await client.putLoopPolicy({ params: { model: policy.model }, body: policy })).policy);
    if (flags.json) return printJson(io, { policies: stored });
    for (const v of stored) io.out(`loop policy for ${v.policy.model} stored: ${policySummary(v.policy)}`);
    return;
  }
  if (verb === 'delete') {
    const body = await connect().deleteLoopPolicy({ params: { model: arg } });
    if (flags.json) return printJson(io, body);
    io.out(`loop policy for ${body.removed} removed: nothing retrains it automatically any more`);
    return;
  }
  throw usage();
}

const str: NonNullable<CliCommand['options']>[string] = { type: 'string' };

export const loopCommands: CommandTable = {
  'loop list': {
    synopsis: `[--model M] [--state ${LOOP_RUN_STATES.join('|')}] [--limit N] [--before T]`,
    summary: 'retraining loop runs, newest first: state, step, trigger, champion → new version, duration',
    options: { model: str, state: str, limit: str, before: str },
    run: loopList,
  },
  'loop show': {
    synopsis: '<id>',
    summary: "one loop run: every step's times and outcome, the gate's comparison and verdict, the ids it made",
    run: loopShow,
  },
  'loop trigger': {
    synopsis: '<model> [--reason R] [--force]',
    summary: 'retrain now under the policy (--force: also inside the cool-down or over the daily budget)',
    options: { reason: str, force: { type: 'boolean' } },
    run: loopTrigger,
  },
  'loop cancel': {
    synopsis: '<id> [--reason R]',
    summary: 'stop a running loop run',
    options: { reason: str },
    run: loopCancel,
  },
  'loop policy': {
    synopsis: 'list | get <model> | set <file.json|file.yaml> | delete <model>',
    summary: 'the loop policy per model: what triggers a retraining, its data, training, gate, rollout, guards',
    run: loopPolicy,
  },
};
