/**
 * @module cli/commands/monitoring
 * `edgeloop rules list|show|add <file.json|yaml>|remove|enable|disable|reference`,
 * `edgeloop alerts list [--state firing] [--model M] [--device D] [--rule R]` and
 * `edgeloop incidents list|show <id>`. Lists page with --limit and --before/--after (the cursor
 * the previous page printed).
 */
import { describeZodError } from '@edgeloop/protocol';
import {
  ALERT_STATES,
  ruleDefinitionSchema,
  splitRuleInput,
  type AlertView,
  type RuleDefinition,
  type RuleView,
} from '@edgeloop/protocol/rest';
import { readDataFile } from '../data-file.js';
import { CliError } from '../api-client.js';
import {
  UsageError,
  listFlag,
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

const RULE_FILE_EXAMPLE =
  '{"name": "saturation-band", "metric": "feature.saturation.mean", "scope": "version", "condition": {"op": "outside", "low": 0.4, "high": 0.6}, "windowMs": 300000, "forMs": 60000, "actions": [{"type": "log"}]}';

/** A rule file: JSON or YAML, the rule's fields with `actions` beside them (or `{rule, actions}`), one rule or a list. */
export function readRuleFile(path: string): RuleDefinition[] {
  const raw = readDataFile(path, 'the rule file');
  return (Array.isArray(raw) ? raw : [raw]).map((entry, i) => {
    const parsed = ruleDefinitionSchema.safeParse(splitRuleInput(entry));
    if (!parsed.success)
      throw new CliError(
        `the rule file ${path}${Array.isArray(raw) ? ` (rule ${i + 1})` : ''} is invalid: ${describeZodError(parsed.error)}; write e.g. ${RULE_FILE_EXAMPLE}`,
      );
    return parsed.data;
  });
}

const limitOf = (flags: Flags): { limit?: number } => {
  const raw = stringFlag(flags, 'limit');
  return raw === undefined ? {} : { limit: parsePositiveInt(raw, '--limit') };
};

const conditionText = (r: RuleView['rule']) => {
  const c = r.condition;
  return c.op === 'outside'
    ? `outside [${c.low}, ${c.high}]`
    : `${c.op} ${c.threshold}${c.clear !== undefined ? ` (clear ${c.clear})` : ''}`;
};

async function rulesList({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'rules list');
  const after = stringFlag(flags, 'after');
  const body = await connect().listRules({ query: { ...limitOf(flags), ...(after ? { after } : {}) } });
  if (flags.json) return printJson(io, body);
  io.out(
    renderTable(
      ['NAME', 'METRIC', 'SCOPE', 'CONDITION', 'WINDOW', 'FOR', 'MODEL', 'ENABLED', 'SOURCE'],
      body.rules.map(({ rule: r, source }) => [
        r.name,
        r.metric,
        r.scope,
        conditionText(r),
        `${r.windowMs / 1000}s`,
        `${r.forMs / 1000}s`,
        r.model ? `${r.model}${r.version ? `@${r.version}` : ''}` : 'every',
        r.enabled ? 'yes' : 'no',
        source,
      ]),
    ),
  );
  if (body.next) io.out(`more: edgeloop rules list --after ${body.next}`);
}

async function rulesShow({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [name, ...extra] = operands;
  if (name === undefined || extra.length) throw new UsageError('rules show takes one rule name');
  const body = await connect().getRule({ params: { name } });
  printJson(io, flags.json ? body : body.rule);
}

async function rulesAdd({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [file, ...extra] = operands;
  if (file === undefined || extra.length)
    throw new UsageError('rules add takes one rule file (.json, .yaml), e.g. edgeloop rules add saturation.yaml');
  const defs = readRuleFile(file);
  const client = connect();
  const added: RuleView[] = [];
  for (const def of defs) added.push((await client.putRule({ body: def })).rule);
  if (flags.json) return printJson(io, { rules: added });
  for (const r of added)
    io.out(`rule ${r.rule.name} stored (${r.rule.metric} ${conditionText(r.rule)}, scope ${r.rule.scope})`);
}

async function rulesRemove({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [name, ...extra] = operands;
  if (name === undefined || extra.length) throw new UsageError('rules remove takes one rule name');
  const body = await connect().deleteRule({ params: { name } });
  if (flags.json) return printJson(io, body);
  io.out(`rule ${body.removed} removed`);
}

const setEnabled =
  (enabled: boolean) =>
  async ({ operands, flags, io, connect }: CommandContext): Promise<void> => {
    const [name, ...extra] = operands;
    if (name === undefined || extra.length)
      throw new UsageError(`rules ${enabled ? 'enable' : 'disable'} takes one rule name`);
    const body = await connect().enableRule({ params: { name }, body: { enabled } });
    if (flags.json) return printJson(io, body);
    io.out(`rule ${body.rule.rule.name} ${enabled ? 'enabled' : 'disabled'}`);
  };

async function rulesReference({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [ref, ...extra] = operands;
  const from = stringFlag(flags, 'from');
  const to = stringFlag(flags, 'to');
  if (ref === undefined || extra.length || from === undefined || to === undefined)
    throw new UsageError(
      'rules reference takes <model>@<version> --from <time> --to <time> [--scope fleet|group:G|device:D], e.g. edgeloop rules reference cam@2 --from 2026-01-01T10:00Z --to 2026-01-01T11:00Z',
    );
  const { name, version } = parseModelRef(ref);
  const time = (raw: string, flag: string) => {
    const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
    if (!Number.isFinite(ms)) throw new UsageError(`${flag} must be an ISO time or epoch milliseconds, got "${raw}"`);
    return ms;
  };
  const body = await connect().putReferenceWindow({
    params: { name, version },
    body: { scope: stringFlag(flags, 'scope') ?? 'fleet', from: time(from, '--from'), to: time(to, '--to') },
  });
  if (flags.json) return printJson(io, body);
  const r = body.reference;
  io.out(`${name} v${version} is compared with ${r.scope} from ${formatTimestamp(r.from)} to ${formatTimestamp(r.to)}`);
}

const alertRow = (a: AlertView) => [
  a.id,
  a.state,
  a.rule,
  `${a.model}@${a.version}`,
  a.scope,
  formatNumber(a.value),
  formatNumber(a.threshold),
  String(a.samples),
  formatTimestamp(a.firedAt ?? a.since),
  a.source,
  a.incidentId ?? '',
];
const ALERT_HEADERS = [
  'ID',
  'STATE',
  'RULE',
  'VERSION',
  'SCOPE',
  'VALUE',
  'THRESHOLD',
  'SAMPLES',
  'SINCE',
  'SOURCE',
  'INCIDENT',
];

async function alertsList({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'alerts list');
  const state = stringFlag(flags, 'state');
  if (state !== undefined && !(ALERT_STATES as readonly string[]).includes(state))
    throw new UsageError(`--state must be one of ${ALERT_STATES.join(', ')}`);
  const query: Record<string, string | number> = {};
  const { limit } = limitOf(flags);
  if (limit !== undefined) query.limit = limit;
  const devices = listFlag(flags, 'device');
  if (devices.length > 1) throw new UsageError('alerts list takes one --device');
  if (devices[0] !== undefined) query.device = devices[0];
  for (const f of ['state', 'model', 'rule', 'before']) {
    const v = stringFlag(flags, f);
    if (v !== undefined) query[f] = v;
  }
  const body = await connect().listAlerts({ query });
  if (flags.json) return printJson(io, body);
  io.out(renderTable(ALERT_HEADERS, body.alerts.map(alertRow)));
  if (body.next) io.out(`more: edgeloop alerts list --before ${body.next}`);
}

async function incidentsList({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'incidents list');
  const query: Record<string, string | number> = {};
  const { limit } = limitOf(flags);
  if (limit !== undefined) query.limit = limit;
  for (const f of ['state', 'model', 'before']) {
    const v = stringFlag(flags, f);
    if (v !== undefined) query[f] = v;
  }
  const body = await connect().listIncidents({ query });
  if (flags.json) return printJson(io, body);
  io.out(
    renderTable(
      ['ID', 'STATE', 'RULE', 'VERSION', 'AFFECTED', 'OPENED', 'RESOLVED'],
      body.incidents.map((i) => [
        i.id,
        i.state,
        i.rule,
        `${i.model}@${i.version}`,
        String(i.members.length),
        formatTimestamp(i.openedAt),
        i.resolvedAt === null ? '' : formatTimestamp(i.resolvedAt),
      ]),
    ),
  );
  if (body.next) io.out(`more: edgeloop incidents list --before ${body.next}`);
}

async function incidentsShow({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [id, ...extra] = operands;
  if (id === undefined || extra.length) throw new UsageError('incidents show takes one incident id');
  const body = await connect().getIncident({ params: { id } });
  if (flags.json) return printJson(io, body);
  const i = body.incident;
  io.out(
    `incident ${i.id} (${i.state}): ${i.rule} on ${i.model} v${i.version} (${i.metric}), opened ${formatTimestamp(i.openedAt)}` +
      (i.resolvedAt !== null ? `, resolved ${formatTimestamp(i.resolvedAt)}` : ''),
  );
  const by = i.resolvedBy;
  if (by)
    io.out(
      `resolved by ${by.loopRunId ? `loop run ${by.loopRunId}, ` : ''}${by.model}${by.version !== null ? ` v${by.version}` : ''}: ${by.note}`,
    );
  io.out(`${i.members.length} affected:`);
  io.out(
    renderTable(
      ['SCOPE', 'STATE', 'SINCE', 'ALERT'],
      i.members.map((m) => [m.scope, m.state, formatTimestamp(m.since), m.alertId]),
    ),
  );
  for (const r of body.loopRuns)
    io.out(
      `loop run ${r.id}: ${r.state}${r.state === 'running' ? ` (step ${r.step})` : ''}` +
        `${r.version !== null ? `, made v${r.version}` : ''}${r.reason ? ` — ${r.reason}` : ''}`,
    );
}

const str: NonNullable<CliCommand['options']>[string] = { type: 'string' };

export const monitoringCommands: CommandTable = {
  'rules list': {
    synopsis: '[--limit N] [--after NAME]',
    summary: 'monitoring rules: stored ones and the default set every model gets',
    options: { limit: str, after: str },
    run: rulesList,
  },
  'rules show': { synopsis: '<name>', summary: 'one rule with its actions', run: rulesShow },
  'rules add': {
    synopsis: '<file.json|file.yaml>',
    summary: 'add or replace rules from a file (the rule fields plus "actions"; one rule or a list)',
    run: rulesAdd,
  },
  'rules remove': { synopsis: '<name>', summary: 'remove a stored rule', run: rulesRemove },
  'rules enable': { synopsis: '<name>', summary: 'enable a rule', run: setEnabled(true) },
  'rules disable': { synopsis: '<name>', summary: 'disable a rule (also a default one)', run: setEnabled(false) },
  'rules reference': {
    synopsis: '<model>@<version> --from T --to T [--scope fleet|group:G|device:D]',
    summary: 'compare a version with a window of its own live data instead of its training baseline',
    options: { from: str, to: str, scope: str },
    run: rulesReference,
  },
  'alerts list': {
    synopsis:
      '[--state pending|firing|resolved|cancelled] [--model M] [--device D] [--rule R] [--limit N] [--before ID]',
    summary: 'alerts with value, threshold and samples, newest first',
    // --device is a list flag elsewhere (models assign, rollouts); one is taken here.
    options: { state: str, model: str, device: { type: 'string', multiple: true }, rule: str, limit: str, before: str },
    run: alertsList,
  },
  'incidents list': {
    synopsis: '[--state open|resolved] [--model M] [--limit N] [--before ID]',
    summary: 'incidents: the alerts of one rule and version grouped, newest first',
    options: { state: str, model: str, limit: str, before: str },
    run: incidentsList,
  },
  'incidents show': {
    synopsis: '<id>',
    summary: 'one incident with every affected device or group',
    run: incidentsShow,
  },
};
