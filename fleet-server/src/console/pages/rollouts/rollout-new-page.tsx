/**
 * @module console/pages/rollouts/rollout-new-page
 * Create a rollout: strategy, model version, target (every device, a group, tags or listed
 * devices), the waves and gates (empty fields take the API's defaults, shown as placeholders).
 * "Preview waves" comes back here with the form in the URL and the waves the server would cut
 * (POST /api/v1/rollouts/preview: the same plan create starts from, devices included) without
 * creating anything; "Create rollout" asks for confirmation and starts it.
 */
import type { RolloutPreview } from '@edgeloop/protocol';
import { ROLLOUT_STRATEGIES } from '@edgeloop/protocol';
import { Empty } from '../../layout/components.js';
import { describeFailure, type PageContext, type PageResult } from '../../page-context.js';
import { CSRF_FIELD } from '../../session/session-constants.js';
import { fmtDuration } from './rollout-bits.js';
import { TARGET_KINDS, buildRolloutRequest, readRolloutForm, type RolloutForm } from './rollout-form.js';

/** Device ids listed per previewed wave. */
const PREVIEW_IDS = 40;

const STRATEGY_HELP: Record<(typeof ROLLOUT_STRATEGIES)[number], string> = {
  direct: 'direct (all at once)',
  staged: 'staged (growing waves)',
  canary: 'canary (a few first)',
  ab: 'ab (a share, then hold)',
  shadow: 'shadow (runs, never answers)',
};

const TARGET_LABEL: Record<(typeof TARGET_KINDS)[number], string> = {
  all: 'every device',
  group: 'a group',
  tag: 'devices with tags',
  devices: 'listed devices',
};

type PreviewState = { preview: RolloutPreview } | { errors: string[] } | undefined;

async function computePreview(ctx: PageContext, form: RolloutForm): Promise<PreviewState> {
  if (ctx.url.searchParams.get('preview') !== '1') return undefined;
  const built = buildRolloutRequest(form);
  if (!built.ok) return { errors: built.errors };
  try {
    return { preview: await ctx.api.previewRollout({ body: built.request }) };
  } catch (err) {
    return { errors: [describeFailure(err)] };
  }
}

function Text(props: {
  name: keyof RolloutForm;
  label: string;
  form: RolloutForm;
  placeholder?: string;
  hint?: string;
}) {
  return (
    <div class="field">
      <label for={`rf-${props.name}`}>{props.label}</label>
      <input
        id={`rf-${props.name}`}
        name={props.name}
        value={props.form[props.name]}
        placeholder={props.placeholder}
        aria-describedby={props.hint ? `rf-${props.name}-hint` : undefined}
      />
      {props.hint ? (
        <span class="hint" id={`rf-${props.name}-hint`}>
          {props.hint}
        </span>
      ) : null}
    </div>
  );
}

function Choice(props: {
  name: keyof RolloutForm;
  label: string;
  form: RolloutForm;
  options: ReadonlyArray<readonly [string, string]>;
  hint?: string;
}) {
  return (
    <div class="field">
      <label for={`rf-${props.name}`}>{props.label}</label>
      <select
        id={`rf-${props.name}`}
        name={props.name}
        aria-describedby={props.hint ? `rf-${props.name}-hint` : undefined}
      >
        {props.options.map(([value, text]) => (
          <option value={value} selected={props.form[props.name] === value}>
            {text}
          </option>
        ))}
      </select>
      {props.hint ? (
        <span class="hint" id={`rf-${props.name}-hint`}>
          {props.hint}
        </span>
      ) : null}
    </div>
  );
}

function PreviewView(props: { state: PreviewState }) {
  const s = props.state;
  if (!s) return null;
  if ('errors' in s)
    return (
      <section class="panel" aria-labelledby="preview" data-testid="rollout-preview">
        <h2 id="preview">Preview</h2>
        <p class="flash flash-error" role="alert">
          Cannot preview: {s.errors.join('; ')}
        </p>
      </section>
    );
  const p = s.preview;
  return (
    <section class="panel" aria-labelledby="preview" data-testid="rollout-preview">
      <h2 id="preview">Preview</h2>
      <p>
        {p.model} v{p.version} ({p.strategy}
        {p.role === 'shadow' ? ', as a shadow' : ''}) reaches <strong>{p.devices}</strong> device(s) in{' '}
        <strong>{p.waves.length}</strong> wave(s)
        {p.baselineVersion !== null ? `, replacing v${p.baselineVersion}` : ''}
        {p.holds ? '; then it holds until you promote or abort it' : ''}. Online devices go first.
      </p>
      {p.blocked ? (
        <p class="flash flash-error" role="alert">
          Create would be refused now: {p.blocked}
        </p>
      ) : null}
      <table data-testid="preview-waves">
        <thead>
          <tr>
            <th scope="col">Wave</th>
            <th scope="col" class="num">
              Devices
            </th>
            <th scope="col" class="num">
              Reached when done
            </th>
            <th scope="col">Bake time</th>
            <th scope="col">Which devices</th>
          </tr>
        </thead>
        <tbody>
          {p.waves.map((w) => (
            <tr data-testid={`preview-wave-${w.index + 1}`}>
              <th scope="row">Wave {w.index + 1}</th>
              <td class="num">{w.size}</td>
              <td class="num">{w.cumulative}</td>
              <td>{fmtDuration(w.waitMs)}</td>
              <td>
                {w.devices.slice(0, PREVIEW_IDS).map((id) => (
                  <>
                    <a href={`/devices/${encodeURIComponent(id)}`}>{id}</a>{' '}
                  </>
                ))}
                {w.devices.length > PREVIEW_IDS ? (
                  <span class="muted">… and {w.devices.length - PREVIEW_IDS} more</span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {p.skipped.length ? (
        <p>
          Skipped ({p.skipped.length}):{' '}
          {p.skipped
            .slice(0, 10)
            .map((x) => `${x.deviceId} (${x.reason})`)
            .join(', ')}
          {p.skipped.length > 10 ? ', …' : ''}
        </p>
      ) : null}
    </section>
  );
}

export async function rolloutNewPage(ctx: PageContext): Promise<PageResult> {
  const form = readRolloutForm((k) => ctx.url.searchParams.get(k));
  const [models, devices, preview] = await Promise.all([
    ctx.api.listModels(),
    ctx.api.listDevices(),
    computePreview(ctx, form),
  ]);
  const versions = models.models
    .filter((m) => m.status !== 'revoked')
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : b.version - a.version));
  const groups = [...new Set(devices.devices.map((d) => d.group).filter((g): g is string => !!g))].sort();
  const allowed = ctx.can('operator');
  const ready = preview && 'preview' in preview ? preview.preview : undefined;
  const confirm = ready
    ? `Start rolling out ${ready.model} v${ready.version} to ${ready.devices} device(s) in ${ready.waves.length} wave(s), as previewed? The first wave (${ready.waves[0]?.size ?? 0} device(s)) gets it right away.`
    : 'Start this rollout? The first wave gets the version right away (preview the waves to see which devices).';
  return {
    title: 'New rollout',
    section: 'rollouts',
    body: (
      <>
        <p>
          <a href="/rollouts">← Rollouts</a>
        </p>
        <h1>New rollout</h1>
        {versions.length === 0 ? (
          <Empty>No model version to roll out yet: upload one on the Models page first.</Empty>
        ) : null}
        <PreviewView state={preview} />
        <form method="post" action="/rollouts/new/create" class="rollout-form" data-testid="rollout-form">
          <input type="hidden" name={CSRF_FIELD} value={ctx.caller.csrfToken} />
          <fieldset>
            <legend>What and where</legend>
            <Choice
              name="strategy"
              label="Strategy"
              form={form}
              options={ROLLOUT_STRATEGIES.map((s) => [s, STRATEGY_HELP[s]] as const)}
            />
            <Choice
              name="version"
              label="Model version"
              form={form}
              options={versions.map(
                (m) => [`${m.name}@${m.version}`, `${m.name} v${m.version} (${m.status})`] as const,
              )}
            />
            <Choice
              name="target"
              label="Target"
              form={form}
              options={TARGET_KINDS.map((k) => [k, TARGET_LABEL[k]] as const)}
            />
            <Choice
              name="group"
              label="Group"
              hint="when the target is a group"
              form={form}
              options={[['', 'choose a group'] as const, ...groups.map((g) => [g, g] as const)]}
            />
            <Text
              name="tags"
              label="Tags"
              form={form}
              placeholder="site=north, line=2"
              hint="when the target is devices with tags"
            />
            <div class="field">
              <label for="rf-devices">Device ids</label>
              <textarea
                id="rf-devices"
                name="devices"
                rows={2}
                placeholder="pi-1, pi-2"
                aria-describedby="rf-devices-hint"
              >
                {form.devices}
              </textarea>
              <span class="hint" id="rf-devices-hint">
                when the target is listed devices; separated by commas or spaces
              </span>
            </div>
          </fieldset>
          <fieldset>
            <legend>Waves</legend>
            <Text
              name="waves"
              label="Waves"
              form={form}
              placeholder="10%, 50%, 100%"
              hint="staged and canary: cumulative shares; a plain number is a device count"
            />
            <Text name="canary" label="Canary size" form={form} placeholder="5%" hint="canary: a share or a count" />
            <Text
              name="abPercent"
              label="A/B share (%)"
              form={form}
              placeholder="50"
              hint="ab: the candidate's share"
            />
            <Text
              name="bakeSeconds"
              label="Bake time per wave (s)"
              form={form}
              placeholder="300"
              hint="direct: 0 by default"
            />
          </fieldset>
          <fieldset>
            <legend>Gates</legend>
            <Text name="successPercent" label="Minimum success rate (%)" form={form} placeholder="80" />
            <Text name="failurePercent" label="Maximum failure rate (%)" form={form} placeholder="20" />
            <Choice
              name="errorAction"
              label="When a gate trips"
              form={form}
              options={[
                ['', 'roll back (default)'],
                ['rollback', 'roll back'],
                ['pause', 'pause'],
              ]}
            />
            <Text
              name="maxErrorRatio"
              label="Maximum live error ratio (candidate/baseline)"
              form={form}
              placeholder="1.2"
            />
            <Text name="minRecords" label="Records per arm before judging live error" form={form} placeholder="30" />
            <Choice
              name="liveErrorRequired"
              label="Wait for live error data"
              form={form}
              options={[
                ['', 'auto (default): when the baseline has reference values'],
                ['always', 'always'],
                ['never', 'never'],
              ]}
            />
            <Text name="maxPsi" label="Maximum drift (PSI)" form={form} placeholder="off" />
            <Text name="healthySeconds" label="Healthy after (s)" form={form} placeholder="60" />
          </fieldset>
          <div class="field">
            <label for="rf-reason">Reason (recorded in the audit log)</label>
            <input id="rf-reason" name="reason" value={form.reason} maxlength={500} />
          </div>
          <div class="actions">
            <button
              type="submit"
              formaction="/rollouts/new/preview"
              disabled={!allowed}
              title={allowed ? undefined : 'needs the operator role'}
            >
              Preview waves
            </button>
            <button
              type="submit"
              class="primary"
              data-confirm={confirm}
              disabled={!allowed || versions.length === 0}
              title={allowed ? undefined : 'needs the operator role'}
            >
              Create rollout
            </button>
          </div>
        </form>
      </>
    ),
  };
}
