/**
 * @module console/pages/rollouts/rollout-form
 * The create-rollout form as plain text fields (what a browser posts and a URL carries) and the
 * API's create request built from them. Fields left empty take the API's defaults, so the form
 * never restates them; a field that cannot be read is named with what to write instead. The
 * preview travels as the same fields in the page URL, so a previewed form can be reloaded.
 */
import type { CreateRolloutRequest, RolloutParameters, RolloutStrategy, WaveSpec } from '@edgeloop/protocol';
import { ROLLOUT_STRATEGIES } from '@edgeloop/protocol';

export const TARGET_KINDS = ['all', 'group', 'tag', 'devices'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** Every field of the form, as text. */
export interface RolloutForm {
  strategy: string;
  /** "name@version" */
  version: string;
  target: string;
  group: string;
  /** "key=value" pairs, comma or space separated. */
  tags: string;
  /** Device ids, comma, space or line separated. */
  devices: string;
  /** Cumulative wave shares: "10%, 50%, 100%"; a plain number is a device count. */
  waves: string;
  /** "5%" or a device count. */
  canary: string;
  abPercent: string;
  bakeSeconds: string;
  successPercent: string;
  failurePercent: string;
  errorAction: string;
  maxErrorRatio: string;
  minRecords: string;
  liveErrorRequired: string;
  maxPsi: string;
  healthySeconds: string;
  reason: string;
}

export const FORM_FIELDS: ReadonlyArray<keyof RolloutForm> = [
  'strategy',
  'version',
  'target',
  'group',
  'tags',
  'devices',
  'waves',
  'canary',
  'abPercent',
  'bakeSeconds',
  'successPercent',
  'failurePercent',
  'errorAction',
  'maxErrorRatio',
  'minRecords',
  'liveErrorRequired',
  'maxPsi',
  'healthySeconds',
  'reason',
];

/** The form as first shown: a staged rollout to every device; empty fields mean the API's defaults. */
export function readRolloutForm(get: (name: string) => string | undefined | null): RolloutForm {
  const form = Object.fromEntries(
    FORM_FIELDS.map((k) => [k, (get(k) ?? '').trim().slice(0, 20_000)]),
  ) as unknown as RolloutForm;
  if (!form.strategy) form.strategy = 'staged';
  if (!form.target) form.target = 'all';
  return form;
}

/** The form as URL query parameters (non-empty fields only). */
export function formQuery(form: RolloutForm): URLSearchParams {
  const q = new URLSearchParams();
  for (const k of FORM_FIELDS) if (form[k]) q.set(k, form[k]);
  return q;
}

const list = (text: string) => text.split(/[\s,;]+/).filter(Boolean);

function number(
  errors: string[],
  label: string,
  text: string,
  opts: { min: number; max: number; integer?: boolean },
): number | undefined {
  if (!text) return undefined;
  const n = Number(text.replace(/%$/, ''));
  if (!Number.isFinite(n) || n < opts.min || n > opts.max || (opts.integer && !Number.isInteger(n))) {
    errors.push(`${label}: write ${opts.integer ? 'a whole number' : 'a number'} from ${opts.min} to ${opts.max}`);
    return undefined;
  }
  return n;
}

/** "10%" → a share, "3" → a device count. */
function share(errors: string[], label: string, text: string): { percent: number } | { count: number } | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !(n > 0) || (m[2] === '%' && n > 100) || (m[2] !== '%' && !Number.isInteger(n))) {
    errors.push(`${label}: "${text}" is neither a share like 10% nor a device count like 3`);
    return undefined;
  }
  return m[2] === '%' ? { percent: n } : { count: n };
}

export type BuiltRequest = { ok: true; request: CreateRolloutRequest } | { ok: false; errors: string[] };

/** The create request the form describes, or every field that cannot be read. */
export function buildRolloutRequest(form: RolloutForm): BuiltRequest {
  const errors: string[] = [];
  const strategy = form.strategy as RolloutStrategy;
  if (!(ROLLOUT_STRATEGIES as readonly string[]).includes(strategy))
    errors.push(`Strategy: choose one of ${ROLLOUT_STRATEGIES.join(', ')}`);
  const mv = /^(.+)@(\d+)$/.exec(form.version);
  if (!mv) errors.push('Model version: choose the version to roll out');

  let target: CreateRolloutRequest['target'] | undefined;
  switch (form.target) {
    case 'all':
      target = { all: true };
      break;
    case 'group':
      if (form.group) target = { group: form.group };
      else errors.push('Group: choose the group to roll out to');
      break;
    case 'tag': {
      const tags: Record<string, string> = {};
      for (const pair of list(form.tags)) {
        const eq = pair.indexOf('=');
        if (eq <= 0 || eq === pair.length - 1) errors.push(`Tags: "${pair}" is not key=value`);
        else tags[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      if (Object.keys(tags).length) target = { tags };
      else if (!form.tags) errors.push('Tags: give at least one key=value');
      break;
    }
    case 'devices': {
      const ids = [...new Set(list(form.devices))];
      if (ids.length) target = { devices: ids };
      else errors.push('Devices: list the device ids, separated by commas or spaces');
      break;
    }
    default:
      errors.push(`Target: choose one of ${TARGET_KINDS.join(', ')}`);
  }

  const p: RolloutParameters = {};
  if (form.waves && (strategy === 'staged' || strategy === 'canary')) {
    const waves: WaveSpec[] = [];
    for (const w of list(form.waves)) {
      const s = share(errors, 'Waves', w);
      if (s) waves.push(s);
    }
    if (waves.length > 20) errors.push('Waves: at most 20');
    else if (waves.length) p.waves = waves;
  }
  if (form.canary && strategy === 'canary') {
    const s = share(errors, 'Canary', form.canary);
    if (s) p.canary = s;
  }
  if (strategy === 'ab') {
    const ab = number(errors, 'A/B share', form.abPercent, { min: 0.01, max: 100 });
    if (ab !== undefined) p.abPercent = ab;
  }
  const bake = number(errors, 'Bake time', form.bakeSeconds, { min: 0, max: 30 * 86_400 });
  if (bake !== undefined) p.waitMs = Math.round(bake * 1000);
  const success = number(errors, 'Minimum success rate', form.successPercent, { min: 0, max: 100 });
  if (success !== undefined) p.successThreshold = success / 100;
  const failure = number(errors, 'Maximum failure rate', form.failurePercent, { min: 0, max: 100 });
  if (failure !== undefined) p.errorThreshold = failure / 100;
  if (form.errorAction === 'pause' || form.errorAction === 'rollback') p.errorAction = form.errorAction;
  const healthy = number(errors, 'Healthy after', form.healthySeconds, { min: 0, max: 30 * 86_400 });
  if (healthy !== undefined) p.healthyAfterMs = Math.round(healthy * 1000);

  const liveError: NonNullable<RolloutParameters['liveError']> = {};
  const ratio = number(errors, 'Maximum live error ratio', form.maxErrorRatio, { min: 1, max: 1000 });
  if (ratio !== undefined) liveError.maxErrorRatio = ratio;
  const records = number(errors, 'Records per arm', form.minRecords, { min: 1, max: 1_000_000, integer: true });
  if (records !== undefined) liveError.minRecords = records;
  if (['auto', 'always', 'never'].includes(form.liveErrorRequired))
    liveError.required = form.liveErrorRequired as 'auto' | 'always' | 'never';
  if (Object.keys(liveError).length) p.liveError = liveError;
  const psi = number(errors, 'Maximum drift (PSI)', form.maxPsi, { min: 0.001, max: 100 });
  if (psi !== undefined) p.drift = { maxPsi: psi };

  if (form.reason.length > 500) errors.push('Reason: at most 500 characters');
  if (errors.length || !mv || !target) return { ok: false, errors };
  return {
    ok: true,
    request: {
      model: mv[1]!,
      version: Number(mv[2]),
      strategy,
      target,
      parameters: p,
      ...(form.reason ? { reason: form.reason } : {}),
    },
  };
}
