/**
 * @module console/pages/drift/rule-pages
 * The monitoring rules: the list (stored and shipped defaults) with enable/disable, edit and
 * delete, and one form for a new rule or an edited one. Changing rules is an operator's; a viewer
 * sees the same pages with the buttons disabled (the API refuses anyway).
 */
import { AGGREGATIONS, METRIC_FORMS, RULE_SCOPES, SEVERITIES } from '@edgeloop/protocol';
import type { RuleView } from '@edgeloop/protocol/rest';
import { ActionForm, Badge, Empty, LiveRegion, Time } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import { CSRF_FIELD } from '../../session/session-constants.js';
import { describeCondition } from './drift-charts.js';
import { SUGGESTED_METRICS } from './drift-query.js';
import { DriftSubnav } from './incident-parts.js';
import { NEW_RULE_FIELDS, decodeDraft, ruleToFields, type RuleFields } from './rule-form.js';

const NEEDS_OPERATOR = 'needs the operator role';

export const ruleUrl = (name: string) => `/drift/rules/${encodeURIComponent(name)}`;

function seconds(ms: number): string {
  if (ms === 0) return '0 s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

function RuleRow(props: { ctx: PageContext; view: RuleView }) {
  const { ctx, view } = props;
  const r = view.rule;
  const canEdit = ctx.can('operator');
  return (
    <tr data-rule={r.name}>
      <th scope="row" class="wrap">
        <a href={`${ruleUrl(r.name)}/edit`}>{r.name}</a>
        {r.description ? <div class="muted rule-desc">{r.description}</div> : null}
      </th>
      <td>
        <code>{r.metric}</code> {describeCondition(r.condition)}
      </td>
      <td>
        {r.scope}
        {r.group ? ` ${r.group}` : ''}
        {r.onDevice ? ' (also on devices)' : ''}
      </td>
      <td>
        {r.model ?? 'every model'}
        {r.version !== undefined ? ` v${r.version}` : ''}
      </td>
      <td>
        {seconds(r.windowMs)}
        {r.aggregation !== 'merged' ? ` ${r.aggregation}` : ''}, for {seconds(r.forMs)}, ≥ {r.minSamples}
      </td>
      <td>
        <Badge tone={r.severity === 'critical' ? 'bad' : 'warn'}>{r.severity}</Badge>
      </td>
      <td>
        {r.enabled ? <Badge tone="ok">enabled</Badge> : <Badge tone="muted">disabled</Badge>}{' '}
        <span class="muted">{view.source}</span>
      </td>
      <td>
        <div class="actions">
          <a href={`${ruleUrl(r.name)}/edit`}>{canEdit ? 'Edit' : 'View'}</a>
          <ActionForm
            action={`${ruleUrl(r.name)}/${r.enabled ? 'disable' : 'enable'}`}
            csrf={ctx.caller.csrfToken}
            label={r.enabled ? 'Disable' : 'Enable'}
            confirm={
              r.enabled
                ? `Disable ${r.name}? Its open alerts stop being judged until it is enabled again.`
                : `Enable ${r.name}? It is judged from the next evaluation on.`
            }
            disabled={!canEdit}
            disabledReason={NEEDS_OPERATOR}
          />
          {view.source !== 'default' ? (
            <ActionForm
              action={`${ruleUrl(r.name)}/delete`}
              csrf={ctx.caller.csrfToken}
              label="Delete"
              danger
              confirm={`Delete the stored rule ${r.name}? A shipped default of the same name applies again.`}
              disabled={!canEdit}
              disabledReason={NEEDS_OPERATOR}
            />
          ) : null}
        </div>
      </td>
    </tr>
  );
}

async function RuleTable(props: { ctx: PageContext }) {
  const rules: RuleView[] = [];
  let after: string | undefined;
  do {
    const page = await props.ctx.api.listRules({ query: { limit: 1000, ...(after ? { after } : {}) } });
    rules.push(...page.rules);
    after = page.next ?? undefined;
  } while (after && rules.length < 10_000);
  return (
    <LiveRegion id="rules" src="/drift/rules?fragment=rules" topics="incidents" label="Rules">
      {rules.length === 0 ? (
        <Empty>No rule is evaluated: add one with “New rule”, or turn the default set on in the server's config.</Empty>
      ) : (
        <div class="table-wrap">
          <table data-testid="rule-table">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Condition</th>
                <th scope="col">Scope</th>
                <th scope="col">Model</th>
                <th scope="col">Window, for, min. values</th>
                <th scope="col">Severity</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rules.map((view) => (
                <RuleRow ctx={props.ctx} view={view} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </LiveRegion>
  );
}

export async function ruleListPage(ctx: PageContext): Promise<PageResult> {
  return {
    title: 'Rules',
    section: 'drift',
    body: (
      <>
        <h1>Monitoring rules</h1>
        <DriftSubnav current="rules" />
        <p>
          {ctx.can('operator') ? (
            <a href="/drift/rules/new" class="button-link" data-testid="new-rule">
              New rule
            </a>
          ) : (
            <span class="muted">Adding and changing rules needs the operator role.</span>
          )}
        </p>
        {await RuleTable({ ctx })}
      </>
    ),
    fragments: { rules: () => RuleTable({ ctx }) },
  };
}

function Select(props: { name: string; label: string; value: string; options: readonly string[]; hint?: string }) {
  return (
    <label class="field">
      {props.label}
      <select name={props.name}>
        {props.options.map((o) => (
          <option value={o} selected={o === props.value}>
            {o === '' ? 'any' : o}
          </option>
        ))}
      </select>
      {props.hint ? <span class="hint">{props.hint}</span> : null}
    </label>
  );
}

function Input(props: {
  name: string;
  label: string;
  value: string;
  type?: string;
  required?: boolean;
  readonly?: boolean;
  hint?: string;
  list?: string;
  step?: string;
}) {
  return (
    <label class="field">
      {props.label}
      <input
        name={props.name}
        value={props.value}
        type={props.type ?? 'text'}
        required={props.required}
        readonly={props.readonly}
        list={props.list}
        step={props.step}
      />
      {props.hint ? <span class="hint">{props.hint}</span> : null}
    </label>
  );
}

function Check(props: { name: string; label: string; checked: boolean }) {
  return (
    <label class="check">
      <input type="checkbox" name={props.name} checked={props.checked} /> {props.label}
    </label>
  );
}

function RuleForm(props: { ctx: PageContext; f: RuleFields; editing?: string; models: string[]; view?: RuleView }) {
  const { ctx, f, editing } = props;
  const canEdit = ctx.can('operator');
  const back = editing ? `${ruleUrl(editing)}/edit` : '/drift/rules/new';
  return (
    <form
      method="post"
      action="/drift/rules/save"
      class="rule-form"
      data-testid="rule-form"
      data-confirm={`Save rule ${editing ?? 'the new rule'}? It is evaluated from the next round on.`}
    >
      <input type="hidden" name={CSRF_FIELD} value={ctx.caller.csrfToken} />
      <input type="hidden" name="back" value={back} />
      {editing ? <input type="hidden" name="original" value={editing} /> : null}
      <fieldset>
        <legend>What</legend>
        <Input
          name="name"
          label="Name"
          value={f['name'] ?? ''}
          required
          readonly={!!editing}
          hint={editing ? 'the name is the rule’s key; a new name makes a new rule' : 'letters, digits and _ . : -'}
        />
        <Input name="description" label="Description" value={f['description'] ?? ''} />
        <Input
          name="metric"
          label="Metric"
          value={f['metric'] ?? ''}
          required
          list="rule-metrics"
          hint="e.g. features.max.psi, reference.out_of_range, error.mae_ratio, feature.brightness.mean"
        />
        <datalist id="rule-metrics">
          {SUGGESTED_METRICS.map((m) => (
            <option value={m}></option>
          ))}
        </datalist>
        <Select name="model" label="Model" value={f['model'] ?? ''} options={['', ...props.models]} />
        <Input name="version" label="Version (empty: every version)" value={f['version'] ?? ''} type="number" />
      </fieldset>
      <fieldset>
        <legend>Where</legend>
        <Select
          name="scope"
          label="Scope"
          value={f['scope'] ?? 'version'}
          options={RULE_SCOPES}
          hint="version: each version fleet-wide; device: each device; group: each group"
        />
        <Input name="group" label="Group (scope group only; empty: every group)" value={f['group'] ?? ''} />
        <Check
          name="onDevice"
          label="Also judged on devices, offline too (scope device only)"
          checked={f['onDevice'] === 'on'}
        />
      </fieldset>
      <fieldset>
        <legend>Condition</legend>
        <Select
          name="op"
          label="Fires when the value is"
          value={f['op'] ?? 'above'}
          options={['above', 'below', 'outside']}
        />
        <Input
          name="threshold"
          label="Threshold (above / below)"
          value={f['threshold'] ?? ''}
          type="number"
          step="any"
        />
        <Input
          name="clear"
          label="Clears at (above / below; empty: the threshold)"
          value={f['clear'] ?? ''}
          type="number"
          step="any"
        />
        <Input name="low" label="Low (outside)" value={f['low'] ?? ''} type="number" step="any" />
        <Input name="high" label="High (outside)" value={f['high'] ?? ''} type="number" step="any" />
        <Input name="clearLow" label="Clears above (outside)" value={f['clearLow'] ?? ''} type="number" step="any" />
        <Input name="clearHigh" label="Clears below (outside)" value={f['clearHigh'] ?? ''} type="number" step="any" />
      </fieldset>
      <fieldset>
        <legend>Window</legend>
        <Input name="windowS" label="Window (seconds)" value={f['windowS'] ?? ''} type="number" step="any" required />
        <Select name="aggregation" label="Aggregation" value={f['aggregation'] ?? 'merged'} options={AGGREGATIONS} />
        <Input name="forS" label="Must hold for (seconds)" value={f['forS'] ?? ''} type="number" step="any" />
        <Input name="minSamples" label="Minimum values in the window" value={f['minSamples'] ?? ''} type="number" />
        <Select name="severity" label="Severity" value={f['severity'] ?? 'warning'} options={SEVERITIES} />
        <Check name="enabled" label="Enabled" checked={f['enabled'] === 'on'} />
      </fieldset>
      <fieldset>
        <legend>Actions</legend>
        <Check name="log" label="A line in the server's log per alert change" checked={f['log'] === 'on'} />
        <label class="field">
          Webhook URLs (one a line; a signed POST per incident change)
          <textarea name="webhooks" rows={2}>
            {f['webhooks'] ?? ''}
          </textarea>
        </label>
      </fieldset>
      <p>
        <button type="submit" class="primary" disabled={!canEdit} title={canEdit ? undefined : NEEDS_OPERATOR}>
          Save rule
        </button>{' '}
        <a href="/drift/rules">Cancel</a>
      </p>
      <details>
        <summary>Metric names</summary>
        <ul>
          {METRIC_FORMS.map((m) => (
            <li>
              <code>{m.form}</code>: {m.description}
            </li>
          ))}
        </ul>
      </details>
    </form>
  );
}

/** A refused draft's fields over a blank form (an unchecked box is absent from a form, so blank means off). */
function draftFields(ctx: PageContext): RuleFields | undefined {
  const draft = decodeDraft(ctx.url.searchParams.get('draft'));
  return draft && { ...NEW_RULE_FIELDS, onDevice: '', enabled: '', log: '', ...draft };
}

async function modelNames(ctx: PageContext): Promise<string[]> {
  const { models } = await ctx.api.listModels();
  return [...new Set(models.map((m) => m.name))].sort();
}

export async function newRulePage(ctx: PageContext): Promise<PageResult> {
  const f = draftFields(ctx) ?? NEW_RULE_FIELDS;
  return {
    title: 'New rule',
    section: 'drift',
    body: (
      <>
        <p>
          <a href="/drift/rules">← Rules</a>
        </p>
        <h1>New rule</h1>
        <DriftSubnav current="rules" />
        <RuleForm ctx={ctx} f={f} models={await modelNames(ctx)} />
      </>
    ),
  };
}

export async function editRulePage(ctx: PageContext): Promise<PageResult> {
  const name = ctx.params['name']!;
  const [{ rule: view }, models] = await Promise.all([ctx.api.getRule({ params: { name } }), modelNames(ctx)]);
  const f = draftFields(ctx) ?? ruleToFields(view);
  return {
    title: `Rule ${name}`,
    section: 'drift',
    body: (
      <>
        <p>
          <a href="/drift/rules">← Rules</a>
        </p>
        <h1>Rule {name}</h1>
        <DriftSubnav current="rules" />
        <p class="muted">
          Source {view.source}
          {view.source === 'default'
            ? ': a shipped default; saving stores your copy, which replaces it until deleted'
            : ''}
          ; updated <Time at={view.updatedAt} />.
        </p>
        <RuleForm ctx={ctx} f={{ ...f, name }} editing={name} models={models} view={view} />
      </>
    ),
  };
}
