/**
 * @module console/pages/rollouts/rollout-readings
 * What a rollout's page reads out of the engine: the gate readings of the current wave (each
 * number as its kind reads), live error per arm with the ratio and drift, and the decision
 * history from the audit log with the numbers each automatic decision was taken on.
 */
import type { AuditEntrySummary, RolloutDetail, RolloutSummary } from '@edgeloop/protocol';
import { Badge, Empty, Time, fmtNumber, type Tone } from '../../layout/components.js';
import { describeTarget, fmtDuration } from './rollout-bits.js';

const GATE_TONE: Record<RolloutDetail['gates'][number]['status'], Tone> = {
  pass: 'ok',
  fail: 'bad',
  waiting: 'info',
  insufficient: 'muted',
  off: 'muted',
};

/** A gate's number as its kind reads: soak time as a duration, rates as percentages. */
function gateNumber(gate: RolloutDetail['gates'][number]['gate'], n: number | null): string {
  if (n === null) return '–';
  if (gate === 'wait') return fmtDuration(n);
  if (gate === 'success' || gate === 'failures') return `${fmtNumber(n * 100, 1)} %`;
  return fmtNumber(n, 3);
}

export function Gates(props: { d: RolloutDetail }) {
  const { gates, liveError, drift, parameters } = props.d;
  const r = props.d.rollout;
  const arm = (name: string, a: RolloutDetail['liveError']['candidate']) => (
    <tr>
      <th scope="row">
        {name} {a.version !== null ? `v${a.version}` : '(no version)'}
      </th>
      <td class="num">{a.records.toLocaleString('en')}</td>
      <td class="num">{fmtNumber(a.mae, 3)}</td>
    </tr>
  );
  return (
    <>
      {gates.length === 0 ? (
        <Empty>No gate readings: the rollout is finished.</Empty>
      ) : (
        <table data-testid="gate-readings">
          <thead>
            <tr>
              <th scope="col">Gate</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Reading
              </th>
              <th scope="col" class="num">
                Threshold
              </th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {gates.map((g) => (
              <tr data-gate={g.gate}>
                <th scope="row">{g.gate}</th>
                <td>
                  <Badge tone={GATE_TONE[g.status]}>{g.status}</Badge>
                </td>
                <td class="num">{gateNumber(g.gate, g.value)}</td>
                <td class="num">{gateNumber(g.gate, g.threshold)}</td>
                <td>{g.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Live error per arm</h3>
      <table data-testid="live-error">
        <thead>
          <tr>
            <th scope="col">Arm</th>
            <th scope="col" class="num">
              Records with a reference
            </th>
            <th scope="col" class="num">
              MAE
            </th>
          </tr>
        </thead>
        <tbody>
          {arm('candidate', liveError.candidate)}
          {arm('baseline', liveError.baseline)}
        </tbody>
      </table>
      <p>
        Ratio candidate/baseline: <strong>{fmtNumber(liveError.ratio, 3)}</strong> (acts above{' '}
        {fmtNumber(parameters.liveError.maxErrorRatio)}, after {parameters.liveError.minRecords} records per arm). Drift
        of the candidate's predictions vs the baseline's: PSI <strong>{fmtNumber(drift.psi, 3)}</strong> on{' '}
        {drift.records.candidate} / {drift.records.baseline} records
        {parameters.drift.maxPsi !== undefined ? ` (acts above ${parameters.drift.maxPsi})` : ' (reported only)'}.
      </p>
      {r.role === 'shadow' ? <p class="muted">The baseline arm is the serving version on the same devices.</p> : null}
    </>
  );
}

const HIDDEN_DETAILS = new Set(['model', 'version', 'reason']);

interface AuditArm {
  version?: number | null;
  records?: number;
  mae?: number | null;
}

/** One detail of a decision in words: live error per arm and targets read as such, the rest as JSON. */
function detailValue(key: string, v: unknown): string {
  if (key === 'liveError' && v && typeof v === 'object') {
    const { candidate, baseline, ratio } = v as { candidate?: AuditArm; baseline?: AuditArm; ratio?: number | null };
    const arm = (name: string, a: AuditArm | undefined) =>
      `${name}${a?.version != null ? ` v${a.version}` : ''} MAE ${fmtNumber(a?.mae, 3)} (${a?.records ?? 0} records)`;
    return `${arm('candidate', candidate)}, ${arm('baseline', baseline)}, ratio ${fmtNumber(ratio, 3)}`;
  }
  if (key === 'target' && v && typeof v === 'object') return describeTarget(v as RolloutSummary['target']);
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function detailText(e: AuditEntrySummary): string {
  return Object.entries(e.details)
    .filter(([k, v]) => !HIDDEN_DETAILS.has(k) && v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${detailValue(k, v)}`)
    .join(' · ');
}

export function History(props: { entries: AuditEntrySummary[] }) {
  if (props.entries.length === 0) return <Empty>No decisions recorded yet.</Empty>;
  return (
    <table data-testid="decision-history">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">Decision</th>
          <th scope="col">Why</th>
          <th scope="col">Numbers</th>
        </tr>
      </thead>
      <tbody>
        {props.entries.map((e) => (
          <tr>
            <td>
              <Time at={e.ts} />
            </td>
            <td>{e.actor === 'system' ? <Badge tone="muted">system</Badge> : e.actor}</td>
            <td>{e.action.replace(/^rollout\./, '')}</td>
            <td>{typeof e.details['reason'] === 'string' ? e.details['reason'] : ''}</td>
            <td class="mono">{detailText(e)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
