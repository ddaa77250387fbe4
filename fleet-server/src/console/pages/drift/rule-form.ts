/**
 * @module console/pages/drift/rule-form
 * A monitoring rule as the console's form fields and back. Times are entered in seconds (the API
 * takes ms), empty optional fields are left out, webhooks are one URL a line. Only what a form
 * cannot express is checked here (numbers that are not numbers); the API validates the rule
 * itself and its reason is shown next to the form, which keeps what was typed (a draft in the URL).
 */
import type { RuleView } from '@edgeloop/protocol/rest';

export type RuleFields = Record<string, string>;

/** The fields of a new rule: the shape of the shipped drift rules. */
export const NEW_RULE_FIELDS: RuleFields = {
  name: '',
  description: '',
  metric: 'features.max.psi',
  model: '',
  version: '',
  scope: 'version',
  group: '',
  op: 'above',
  threshold: '0.25',
  clear: '',
  low: '',
  high: '',
  clearLow: '',
  clearHigh: '',
  windowS: '120',
  forS: '15',
  aggregation: 'merged',
  minSamples: '500',
  severity: 'warning',
  onDevice: '',
  enabled: 'on',
  log: 'on',
  webhooks: '',
};

const str = (n: number | undefined) => (n === undefined ? '' : String(n));

export function ruleToFields(view: RuleView): RuleFields {
  const r = view.rule;
  const c = r.condition;
  return {
    name: r.name,
    description: r.description ?? '',
    metric: r.metric,
    model: r.model ?? '',
    version: str(r.version),
    scope: r.scope,
    group: r.group ?? '',
    op: c.op,
    threshold: c.op === 'outside' ? '' : String(c.threshold),
    clear: c.op === 'outside' ? '' : str(c.clear),
    low: c.op === 'outside' ? String(c.low) : '',
    high: c.op === 'outside' ? String(c.high) : '',
    clearLow: c.op === 'outside' ? str(c.clearLow) : '',
    clearHigh: c.op === 'outside' ? str(c.clearHigh) : '',
    windowS: String(r.windowMs / 1000),
    forS: String(r.forMs / 1000),
    aggregation: r.aggregation,
    minSamples: String(r.minSamples),
    severity: r.severity,
    onDevice: r.onDevice ? 'on' : '',
    enabled: r.enabled ? 'on' : '',
    log: view.actions.some((a) => a.type === 'log') ? 'on' : '',
    webhooks: view.actions.flatMap((a) => (a.type === 'webhook' ? [a.url] : [])).join('\n'),
  };
}

export interface ParsedRuleForm {
  /** The rule definition to send ({rule, actions}); the API validates it. */
  definition: { rule: Record<string, unknown>; actions: Array<Record<string, string>> };
  /** What cannot even be sent (a number field holding text). */
  problems: string[];
}

export function fieldsToDefinition(f: RuleFields): ParsedRuleForm {
  const problems: string[] = [];
  const text = (k: string) => (f[k] ?? '').trim();
  const num = (k: string, label: string, scale = 1): number | undefined => {
    const v = text(k);
    if (v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) {
      problems.push(`${label} must be a number (got "${v.slice(0, 40)}")`);
      return undefined;
    }
    return Math.round(n * scale * 1e9) / 1e9;
  };
  const op = text('op');
  const condition =
    op === 'outside'
      ? {
          op,
          low: num('low', 'low'),
          high: num('high', 'high'),
          clearLow: num('clearLow', 'clear low'),
          clearHigh: num('clearHigh', 'clear high'),
        }
      : { op, threshold: num('threshold', 'threshold'), clear: num('clear', 'clear at') };
  const rule: Record<string, unknown> = {
    name: text('name'),
    metric: text('metric'),
    model: text('model') || undefined,
    version: num('version', 'version'),
    scope: text('scope'),
    group: text('group') || undefined,
    condition: Object.fromEntries(Object.entries(condition).filter(([, v]) => v !== undefined)),
    windowMs: num('windowS', 'window (s)', 1000),
    aggregation: text('aggregation') || undefined,
    forMs: num('forS', 'for (s)', 1000),
    minSamples: num('minSamples', 'minimum samples'),
    severity: text('severity') || undefined,
    onDevice: f['onDevice'] === 'on',
    enabled: f['enabled'] === 'on',
    description: text('description') || undefined,
  };
  const actions: Array<Record<string, string>> = [
    ...(f['log'] === 'on' ? [{ type: 'log' }] : []),
    ...text('webhooks')
      .split(/\r?\n/)
      .map((u) => u.trim())
      .filter(Boolean)
      .map((url) => ({ type: 'webhook', url })),
  ];
  return {
    definition: { rule: Object.fromEntries(Object.entries(rule).filter(([, v]) => v !== undefined)), actions },
    problems,
  };
}

const FIELD_NAMES = new Set(Object.keys(NEW_RULE_FIELDS));

/** The typed fields, for the URL when the API refused them (base64url JSON, form fields only). */
export function encodeDraft(f: RuleFields): string {
  const kept = Object.fromEntries(Object.entries(f).filter(([k]) => FIELD_NAMES.has(k)));
  return Buffer.from(JSON.stringify(kept), 'utf8').toString('base64url');
}

export function decodeDraft(draft: string | null): RuleFields | undefined {
  if (!draft || draft.length > 16_000) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(draft, 'base64url').toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const fields: RuleFields = {};
    for (const [k, v] of Object.entries(parsed))
      if (FIELD_NAMES.has(k) && typeof v === 'string') fields[k] = v.slice(0, 4096);
    return fields;
  } catch {
    return undefined;
  }
}
