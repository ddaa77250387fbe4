/**
 * @module cli/commands/training
 * `edgeloop train` (start a sweep on a dataset and follow it: a line per run and epoch as they
 * change, then the runs with their metrics and the best one), `edgeloop runs list|show|register|
 * cancel`, and `edgeloop lineage <record-id | model@version>` (the chain from a telemetry record
 * back to the devices whose data trained the model).
 */
import { describeZodError } from '@edgeloop/protocol';
import {
  sweepSchema,
  TRAINING_RUN_STATUSES,
  type LineageWalk,
  type Sweep,
  type TrainingJobDetail,
  type TrainingRunStatus,
  type TrainingRunSummary,
} from '@edgeloop/protocol/rest';
import { readDataFile } from '../data-file.js';
import { CliError } from '../api-client.js';
import {
  UsageError,
  parseDuration,
  parseModelRef,
  parsePositiveInt,
  printJson,
  rejectOperands,
  stringFlag,
  type CliCommand,
  type CommandContext,
  type CommandTable,
  type Flags,
} from '../command.js';
import { formatNumber, formatTimestamp, renderTable } from '../format.js';

/** How often `edgeloop train` asks for progress (EDGELOOP_TRAIN_POLL_MS overrides it, e.g. in tests). */
const trainPollMs = () => Number(process.env.EDGELOOP_TRAIN_POLL_MS ?? 1000);
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

export function readSweepFile(path: string): Sweep {
  const raw = readDataFile(path, 'the sweep file', { yaml: false });
  const parsed = sweepSchema.safeParse(raw);
  if (!parsed.success)
    throw new CliError(
      `the sweep file ${path} is invalid: ${describeZodError(parsed.error)}; write e.g. {"seed": 1, "runs": [{"learningRate": 0.01}]} or {"grid": {"learningRate": [0.01, 0.003]}}`,
    );
  return parsed.data;
}

const paramsText = (r: Pick<TrainingRunSummary, 'params'>) =>
  Object.entries(r.params)
    .filter(([k]) => k !== 'seed')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');

/** One line per run whose state or progress changed since the last poll. */
export function progressLines(detail: TrainingJobDetail, seen: Map<string, string>): string[] {
  const lines: string[] = [];
  const total = detail.runs.length;
  for (const r of detail.runs) {
    const p = r.progress;
    let text = `run ${r.position + 1}/${total} ${r.status}`;
    if (r.status === 'succeeded') text += `  validation MAE ${formatNumber(r.metrics?.validation.mae)}`;
    else if (p?.epoch !== undefined) {
      text += `  epoch ${p.epoch}/${p.epochs ?? '?'}`;
      if (p.loss !== undefined) text += `  loss ${formatNumber(p.loss)}`;
      if (p.valMae !== undefined) text += `  val MAE ${formatNumber(p.valMae)}`;
    } else if (p?.phase) text += `  ${p.phase}`;
    if (r.error && r.status !== 'succeeded') text += `  ${r.error.split('\n')[0]}`;
    if (seen.get(r.id) === text) continue;
    seen.set(r.id, text);
    lines.push(`${text}  [${paramsText(r)} seed=${r.seed}]`);
  }
  return lines;
}

export function renderRuns(runs: readonly TrainingRunSummary[], bestRunId?: string | null): string {
  return renderTable(
    ['RUN', 'STATUS', 'PARAMS', 'SEED', 'VAL MAE', 'HOLDOUT MAE', 'SECONDS', ''],
    runs.map((r) => [
      r.id,
      r.status,
      paramsText(r),
      String(r.seed),
      formatNumber(r.metrics?.validation.mae),
      formatNumber(r.metrics?.holdout?.mae),
      r.durationMs === null ? '' : formatNumber(r.durationMs / 1000),
      r.id === bestRunId ? 'best' : '',
    ]),
  );
}

async function train({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'train');
  const dataset = stringFlag(flags, 'dataset');
  const paramsFile = stringFlag(flags, 'params');
  if (!dataset || !paramsFile)
    throw new UsageError(
      'train needs --dataset <id> and --params <sweep.json>, e.g. edgeloop train --dataset ds-… --params sweep.json',
    );
  const model = stringFlag(flags, 'register');
  const parent = stringFlag(flags, 'parent');
  const trigger = stringFlag(flags, 'trigger');
  if (!model && (parent || trigger)) throw new UsageError('--parent and --trigger go with --register <model>');
  const timeout = stringFlag(flags, 'timeout');
  const client = connect();
  const { job } = await client.createTrainingJob({
    body: {
      dataset,
      sweep: readSweepFile(paramsFile),
      ...(stringFlag(flags, 'trainer') ? { trainer: stringFlag(flags, 'trainer')! } : {}),
      ...(timeout ? { timeoutMs: parseDuration(timeout, '--timeout') } : {}),
      ...(model
        ? {
            register: {
              model,
              ...(parent ? { parent: parsePositiveInt(parent, '--parent') } : {}),
              ...(trigger ? { trigger } : {}),
            },
          }
        : {}),
    },
  });
  if (!flags.json)
    io.out(`training job ${job.id}: ${job.trainer} on ${job.datasetId}, best by ${job.metric} (${job.goal})`);
  if (flags.detach) {
    if (flags.json) printJson(io, { job });
    else io.out(`follow it with: edgeloop runs list --job ${job.id}`);
    return;
  }
  const seen = new Map<string, string>();
  let detail: TrainingJobDetail;
  for (;;) {
    detail = await client.getTrainingJob({ params: { id: job.id } });
    if (!flags.json) for (const line of progressLines(detail, seen)) io.out(line);
    if (FINISHED.has(detail.job.status)) break;
    await new Promise((r) => setTimeout(r, trainPollMs()));
  }
  if (flags.json) printJson(io, detail);
  else {
    io.out('');
    io.out(renderRuns(detail.runs, detail.job.bestRunId));
    const j = detail.job;
    if (j.bestRunId) io.out(`best run: ${j.bestRunId} by ${j.metric}`);
    if (j.registered)
      io.out(
        `registered ${j.registered.name} v${j.registered.version} (signed), lineage: dataset ${j.datasetId}, run ${j.bestRunId}`,
      );
  }
  if (detail.job.status !== 'succeeded')
    throw new CliError(`training job ${job.id} ${detail.job.status}: ${detail.job.error ?? 'no reason given'}`);
}

function statusFlag(flags: Flags): TrainingRunStatus | undefined {
  const status = stringFlag(flags, 'status');
  if (status !== undefined && !(TRAINING_RUN_STATUSES as readonly string[]).includes(status))
    throw new UsageError(`--status takes ${TRAINING_RUN_STATUSES.join(', ')}, got "${status}"`);
  return status as TrainingRunStatus | undefined;
}

async function list({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'runs list');
  const body = await connect().listTrainingRuns({
    query: {
      job: stringFlag(flags, 'job') || undefined,
      dataset: stringFlag(flags, 'dataset') || undefined,
      status: statusFlag(flags),
    },
  });
  if (flags.json) return printJson(io, body);
  if (body.runs.length === 0)
    return io.out('no training runs yet; start some with: edgeloop train --dataset <id> --params sweep.json');
  io.out(renderRuns(body.runs));
}

async function show({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [id, ...extra] = operands;
  if (id === undefined || extra.length)
    throw new UsageError('runs show takes one run id, e.g. edgeloop runs show tj-1a2b3c4d5e-1');
  const body = await connect().getTrainingRun({ params: { id } });
  if (flags.json) return printJson(io, body);
  const r = body.run;
  const m = r.metrics;
  const lines = [
    `${r.id}  ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}  job ${r.jobId}, run ${r.position + 1}`,
    `trainer     ${r.trainer}`,
    `dataset     ${r.datasetId}`,
    `params      ${paramsText(r)}`,
    `seed        ${r.seed}`,
  ];
  if (r.startedAt) lines.push(`started     ${formatTimestamp(r.startedAt)}`);
  if (r.durationMs !== null) lines.push(`duration    ${formatNumber(r.durationMs / 1000)} s`);
  if (m) {
    for (const split of ['train', 'validation', 'holdout'] as const) {
      const e = m[split];
      if (e)
        lines.push(`${split.padEnd(12)}MAE ${formatNumber(e.mae)}  RMSE ${formatNumber(e.rmse)}  (${e.count} items)`);
    }
    if (m.meanBaselineMae !== undefined) lines.push(`mean baseline MAE ${formatNumber(m.meanBaselineMae)}`);
  }
  if (r.modelSha256) lines.push(`model       sha256 ${r.modelSha256}`);
  if (r.error) lines.push(`error       ${r.error}`);
  const log = body.log.trimEnd();
  if (log) {
    const shown = flags.log ? log : log.split('\n').slice(-20).join('\n');
    lines.push('', flags.log ? 'log:' : 'log (last 20 lines; --log for all):', shown);
  }
  io.out(lines.join('\n'));
}

async function register({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [id, ...extra] = operands;
  const model = stringFlag(flags, 'model');
  if (id === undefined || extra.length || !model)
    throw new UsageError(
      'runs register takes one run id and --model <name>, e.g. edgeloop runs register tj-…-2 --model distance',
    );
  const parent = stringFlag(flags, 'parent');
  const trigger = stringFlag(flags, 'trigger');
  const body = await connect().registerTrainingRun({
    params: { id },
    body: {
      model,
      ...(parent ? { parent: parsePositiveInt(parent, '--parent') } : {}),
      ...(trigger ? { trigger } : {}),
    },
  });
  if (flags.json) return printJson(io, body);
  io.out(
    `registered ${body.model.name} v${body.model.version} from run ${id} (sha256 ${body.model.sha256.slice(0, 12)})`,
  );
}

async function cancel({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [id, ...extra] = operands;
  if (id === undefined || extra.length)
    throw new UsageError('runs cancel takes one job id, e.g. edgeloop runs cancel tj-1a2b3c4d5e');
  const body = await connect().cancelTrainingJob({ params: { id } });
  if (flags.json) return printJson(io, body);
  io.out(`training job ${body.job.id} is ${body.job.status}`);
}

export function renderLineage(w: LineageWalk): string {
  const lines: string[] = [];
  if (w.record)
    lines.push(
      `record ${w.record.id}: device ${w.record.deviceId}, stream ${w.record.stream} seq ${w.record.seq} at ${formatTimestamp(w.record.ts)}` +
        `, prediction ${formatNumber(w.record.prediction)}, reference ${formatNumber(w.record.reference)}${w.record.shadow ? ' (shadow)' : ''}`,
    );
  const m = w.model;
  lines.push(
    `${w.record ? '  ↳ ' : ''}model ${m.name} v${m.version} (${m.status}), sha256 ${m.sha256.slice(0, 12)}` +
      `${m.parent ? `, parent v${m.parent}` : ''}${m.trigger ? `, trigger ${m.trigger}` : ''}` +
      `${m.rereleaseOf ? `; the artifact of v${m.rereleaseOf}, whose origin follows` : ''}`,
  );
  const indent = w.record ? '      ' : '  ';
  if (w.loop) {
    const l = w.loop;
    const why = l.incident
      ? `incident ${l.incident.id} (${l.incident.rule}, ${l.incident.state}) on ${l.incident.devices.length} device(s)`
      : `${l.trigger.kind} trigger by ${l.trigger.actor}`;
    lines.push(`${indent}↳ loop run ${l.runId} (${l.state}), started by ${why}`);
    if (l.gate) {
      const side = (name: string, c: NonNullable<typeof l.gate.recent>) =>
        `${name} holdout ${c.count} items: challenger MAE ${formatNumber(c.challenger.mae)} vs champion ${formatNumber(c.champion.mae)} (${c.ratio.toFixed(2)}×)`;
      const sides = [
        l.gate.recent && side('recent', l.gate.recent),
        l.gate.original && side('original', l.gate.original),
      ];
      lines.push(
        `${indent}  gate ${l.gate.verdict} against v${l.gate.champion.version}: ${sides.filter(Boolean).join('; ')}`,
      );
    }
    if (l.runs.length > 1)
      lines.push(`${indent}  sweep of ${l.runs.length} runs; best ${l.runs.find((r) => r.best)?.id ?? '–'}`);
  }
  if (w.run)
    lines.push(
      `${indent}↳ training run ${w.run.id} (job ${w.run.jobId}): ${w.run.trainer}, ${paramsText(w.run)} seed=${w.run.seed}` +
        `${w.run.metrics ? `, validation MAE ${formatNumber(w.run.metrics.validation.mae)}` : ''}`,
    );
  if (w.dataset) {
    const d = w.dataset;
    lines.push(
      `${indent}  ↳ dataset ${d.id}${d.name ? ` "${d.name}"` : ''} (${d.origin}): ${d.counts.total} items ` +
        `(${d.counts.train} train, ${d.counts.validation} validation, ${d.counts.holdout} holdout), labels ${formatNumber(d.label.min)}–${formatNumber(d.label.max)}`,
    );
    for (const s of w.sources)
      lines.push(
        `${indent}    ↳ device ${s.deviceId ?? '(none named)'}: ${s.count} items` +
          (s.from !== null && s.to !== null ? `, ${formatTimestamp(s.from)} – ${formatTimestamp(s.to)}` : ''),
      );
  }
  for (const gap of w.gaps) lines.push(`  (${gap})`);
  return lines.join('\n');
}

async function lineage({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [ref, ...extra] = operands;
  if (ref === undefined || extra.length)
    throw new UsageError(
      'lineage takes a telemetry record id or <model>@<version>, e.g. edgeloop lineage 1234 or edgeloop lineage distance@2',
    );
  const client = connect();
  const walk = /^[1-9]\d*$/.test(ref)
    ? await client.lineageOfRecord({ params: { id: Number(ref) } })
    : await (async () => {
        const { name, version } = parseModelRef(ref);
        return client.lineageOfVersion({ params: { name, version } });
      })();
  if (flags.json) return printJson(io, walk);
  io.out(renderLineage(walk));
}

const str: NonNullable<CliCommand['options']>[string] = { type: 'string' };

export const trainingCommands: CommandTable = {
  train: {
    synopsis:
      '--dataset <id> --params <sweep.json> [--trainer NAME] [--register MODEL [--parent V] [--trigger T]] [--timeout 10m] [--detach]',
    summary:
      'train a sweep on a dataset snapshot, showing progress per run and epoch; --register signs the best run as a version',
    options: {
      dataset: str,
      params: str,
      trainer: str,
      register: str,
      parent: str,
      trigger: str,
      timeout: str,
      detach: { type: 'boolean' },
    },
    run: train,
  },
  'runs list': {
    synopsis: '[--job J] [--dataset D] [--status S]',
    summary: 'training runs with params, seed and metrics, newest job first',
    options: { job: str, dataset: str, status: str },
    run: list,
  },
  'runs show': {
    synopsis: '<run-id> [--log]',
    summary: "one run: params, seed, metrics, model, error and the trainer's log",
    options: { log: { type: 'boolean' } },
    run: show,
  },
  'runs register': {
    synopsis: '<run-id> --model NAME [--parent V] [--trigger T]',
    summary: "register a succeeded run's model as the next version, with its dataset and run as lineage",
    options: { model: str, parent: str, trigger: str },
    run: register,
  },
  'runs cancel': {
    synopsis: '<job-id>',
    summary: 'cancel a training job: running trainers stop, queued runs never start',
    run: cancel,
  },
  lineage: {
    synopsis: '<record-id | model@version>',
    summary: 'where a prediction came from: model version → training run → dataset → source devices and time windows',
    run: lineage,
  },
};
