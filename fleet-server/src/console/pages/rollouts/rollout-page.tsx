/**
 * @module console/pages/rollouts/rollout-page
 * One rollout: its facts, the actions its state allows (each confirmed, naming what happens to
 * the devices), the gate readings (failures, success, bake time, live error per arm, drift),
 * progress per wave with each wave's devices and their states, and the decision history from
 * the audit log (operators' actions and the engine's own advance/hold/pause/rollback with the
 * numbers it measured). The whole body is a live region on `rollouts devices`, so the page moves
 * while the rollout does.
 */
import type { RolloutDetail, RolloutDeviceView, RolloutSummary } from '@edgeloop/protocol';
import { ActionForm, Badge, LiveRegion, Time } from '../../layout/components.js';
import type { PageContext, PageResult } from '../../page-context.js';
import {
  CountsByState,
  DoneProgress,
  RolloutStateBadge,
  describeTarget,
  deviceTone,
  doneCount,
  fmtDuration,
  rolloutHref,
} from './rollout-bits.js';
import { Gates, History } from './rollout-readings.js';

/** Devices listed per wave; the counts cover the rest. */
const DEVICES_PER_WAVE = 100;
const HISTORY_LIMIT = 200;

type Verb = 'pause' | 'resume' | 'abort' | 'rollback' | 'promote';

/** The operator actions the rollout's state allows, as the API judges them (rollout-actions.ts). */
export function allowedActions(r: RolloutSummary): Verb[] {
  const active = r.state === 'running' || r.state === 'paused';
  const verbs: Verb[] = [];
  if (r.state === 'running') verbs.push('pause');
  if (r.state === 'paused') verbs.push('resume');
  // ab gains a final wave when promoted; a promoted shadow is no longer a shadow rollout.
  if (active && (r.strategy === 'shadow' || (r.strategy === 'ab' && r.waveCount === 1))) verbs.push('promote');
  if (active) verbs.push('abort');
  if (r.state !== 'rolled-back') verbs.push('rollback');
  return verbs;
}

function consequence(verb: Verb, r: RolloutSummary): { label: string; confirm: string; danger: boolean } {
  const given = doneCount(r.counts) + (r.counts.assigned ?? 0) + (r.counts.downloading ?? 0) + (r.counts.verified ?? 0);
  const what = `${r.model} v${r.version}`;
  switch (verb) {
    case 'pause':
      return {
        label: 'Pause',
        confirm: `Pause rollout ${r.id}? No more devices get ${what} and no wave advances until it is resumed; devices that have it keep it.`,
        danger: false,
      };
    case 'resume':
      return {
        label: 'Resume',
        confirm: `Resume rollout ${r.id}? Failures so far are acknowledged, live error is judged from now on, and the waves carry on.`,
        danger: false,
      };
    case 'abort':
      return {
        label: 'Abort',
        confirm:
          r.role === 'shadow'
            ? `Abort rollout ${r.id}? The shadow ${what} is removed from every device; nothing else changes.`
            : `Abort rollout ${r.id}? It stops here: the ${given} device(s) given ${what} keep it, the others stay as they are.`,
        danger: true,
      };
    case 'rollback':
      return {
        label: 'Roll back',
        confirm: `Roll back rollout ${r.id}? The ${given} device(s) given ${what} go back to what they served before${
          r.baselineVersion !== null ? ` (v${r.baselineVersion}, re-released as a new version)` : ''
        }; devices that never got it are untouched.`,
        danger: true,
      };
    case 'promote':
      return {
        label: 'Promote',
        confirm:
          r.strategy === 'shadow'
            ? `Promote rollout ${r.id}? The shadow ${what} starts serving, rolled out as its promote settings say.`
            : `Promote rollout ${r.id}? ${what} goes on to every remaining device of the target.`,
        danger: false,
      };
  }
}

function Actions(props: { ctx: PageContext; r: RolloutSummary }) {
  const { ctx, r } = props;
  const verbs = allowedActions(r);
  if (verbs.length === 0) return <p class="muted">Nothing left to do: the rollout is rolled back.</p>;
  const allowed = ctx.can('operator');
  return (
    <div class="actions" data-testid="rollout-actions">
      {verbs.map((verb) => {
        const c = consequence(verb, r);
        return (
          <ActionForm
            action={`${rolloutHref(r.id)}/${verb}`}
            csrf={ctx.caller.csrfToken}
            label={c.label}
            confirm={c.confirm}
            danger={c.danger}
            disabled={!allowed}
            disabledReason="needs the operator role"
          />
        );
      })}
    </div>
  );
}

function Facts(props: { d: RolloutDetail }) {
  const r = props.d.rollout;
  const rollbacks = Object.entries(r.rollbackVersions);
  return (
    <dl class="facts">
      <dt>State</dt>
      <dd>
        <RolloutStateBadge rollout={r} testid />
        {r.reason ? <span> {r.reason}</span> : null}
      </dd>
      <dt>Model</dt>
      <dd>
        <a href={`/models/${encodeURIComponent(r.model)}`}>{r.model}</a> v{r.version}{' '}
        {r.baselineVersion !== null ? `replacing v${r.baselineVersion}` : '(devices served no version before)'}
      </dd>
      <dt>Strategy</dt>
      <dd>
        {r.strategy}
        {r.role === 'shadow' ? ' (the candidate runs as a shadow and never answers)' : ''}
      </dd>
      <dt>Target</dt>
      <dd>
        {describeTarget(r.target)}: {r.devices} device(s) take part
      </dd>
      <dt>Progress</dt>
      <dd>
        <DoneProgress done={doneCount(r.counts)} total={r.devices} label={`devices on v${r.version}`} /> on v{r.version}
        , wave {Math.min(r.currentWave + 1, r.waveCount)} of {r.waveCount}
      </dd>
      <dt>Created</dt>
      <dd>
        by {r.createdBy}, <Time at={r.createdAt} />
      </dd>
      <dt>Last change</dt>
      <dd>
        <Time at={r.updatedAt} ago />
        {r.finishedAt !== null ? (
          <>
            , finished <Time at={r.finishedAt} />
          </>
        ) : null}
      </dd>
      {rollbacks.length ? (
        <>
          <dt>Rolled back to</dt>
          <dd>{rollbacks.map(([from, as]) => `v${from} re-released as v${as}`).join(', ')}</dd>
        </>
      ) : null}
    </dl>
  );
}

function DeviceRows(props: { devices: RolloutDeviceView[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Device</th>
          <th scope="col">State</th>
          <th scope="col">Before</th>
          <th scope="col">Since</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {props.devices.map((d) => (
          <tr data-device={d.deviceId}>
            <th scope="row">
              <a href={`/devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceId}</a>
            </th>
            <td>
              <Badge tone={deviceTone(d.state)}>{d.state}</Badge>
            </td>
            <td>{d.previousVersion !== null ? `v${d.previousVersion}` : '–'}</td>
            <td>
              <Time at={d.stateAt} ago />
            </td>
            <td>{d.reason ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Waves(props: { d: RolloutDetail }) {
  const { d } = props;
  const r = d.rollout;
  const skipped = d.devices.filter((x) => x.wave < 0);
  return (
    <>
      {d.waves.map((w) => {
        const n = w.index + 1;
        const devices = d.devices.filter((x) => x.wave === w.index);
        const current = w.index === r.currentWave && (r.state === 'running' || r.state === 'paused');
        const status =
          w.passedAt !== null ? 'passed' : w.startedAt !== null ? (current ? 'current' : 'started') : 'waiting';
        return (
          <section class="panel wave" data-testid={`wave-${n}`} aria-labelledby={`wave-${n}-title`}>
            <h3 id={`wave-${n}-title`}>
              Wave {n} of {d.waves.length}{' '}
              <Badge tone={status === 'passed' ? 'ok' : status === 'waiting' ? 'muted' : 'info'}>{status}</Badge>
            </h3>
            <p>
              {w.size} device(s), {w.cumulative} in all once it is done · bake time {fmtDuration(w.waitMs)}
              {w.startedAt !== null ? (
                <>
                  {' '}
                  · started <Time at={w.startedAt} ago />
                </>
              ) : null}
              {w.passedAt !== null ? (
                <>
                  {' '}
                  · passed <Time at={w.passedAt} ago />
                </>
              ) : null}
              {w.offline ? (
                <>
                  {' '}
                  · <Badge tone="warn">{w.offline} offline too long</Badge>
                </>
              ) : null}
            </p>
            <p>
              <DoneProgress done={doneCount(w.counts)} total={w.size} label={`wave ${n}: devices on v${r.version}`} />{' '}
              <CountsByState counts={w.counts} />
            </p>
            <details open={devices.length <= 20 ? true : undefined}>
              <summary>Devices of wave {n}</summary>
              <DeviceRows devices={devices.slice(0, DEVICES_PER_WAVE)} />
              {devices.length > DEVICES_PER_WAVE ? (
                <p class="muted">… and {devices.length - DEVICES_PER_WAVE} more (counted above).</p>
              ) : null}
            </details>
          </section>
        );
      })}
      {skipped.length ? (
        <details>
          <summary>{skipped.length} device(s) of the target skipped</summary>
          <DeviceRows devices={skipped.slice(0, DEVICES_PER_WAVE)} />
        </details>
      ) : null}
    </>
  );
}

async function rolloutBody(ctx: PageContext, id: string) {
  const [d, audit] = await Promise.all([
    ctx.api.getRollout({ params: { id } }),
    ctx.api.listAudit({ query: { target: id, limit: HISTORY_LIMIT } }),
  ]);
  const history = audit.entries.filter((e) => e.action.startsWith('rollout.')).reverse();
  const r = d.rollout;
  return (
    <LiveRegion id="rollout" src={`${rolloutHref(id)}?fragment=rollout`} topics="rollouts devices" label="Rollout">
      <div class="grid-2">
        <section class="panel" aria-labelledby="facts">
          <h2 id="facts">Status</h2>
          <Facts d={d} />
          <h3>Actions</h3>
          <Actions ctx={ctx} r={r} />
        </section>
        <section class="panel" aria-labelledby="gates">
          <h2 id="gates">Gates</h2>
          <Gates d={d} />
        </section>
      </div>
      <h2>Waves</h2>
      <Waves d={d} />
      <h2>Decision history</h2>
      <History entries={history} />
    </LiveRegion>
  );
}

export async function rolloutPage(ctx: PageContext): Promise<PageResult> {
  const id = ctx.params['id']!;
  const body = await rolloutBody(ctx, id);
  return {
    title: `Rollout ${id}`,
    section: 'rollouts',
    body: (
      <>
        <p>
          <a href="/rollouts">← Rollouts</a>
        </p>
        <h1>Rollout {id}</h1>
        {body}
      </>
    ),
    fragments: { rollout: () => rolloutBody(ctx, id) },
  };
}
