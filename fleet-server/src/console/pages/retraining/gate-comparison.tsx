/**
 * @module console/pages/retraining/gate-comparison
 * The gate's comparison of a challenger with the serving champion: per holdout (recent: the
 * drifted window, where the challenger must be better; original: the champion's own, where it
 * must not be much worse) the item count, both MAEs and RMSEs, their ratio, the threshold and
 * whether it held; then the verdict with its reasons. Beside the table, the MAEs as a small SVG
 * bar chart (bars carry their numbers as text, so colour is never the only cue).
 */
import type { GateComparison, HoldoutComparison } from '@edgeloop/protocol';
import { Badge, Time, fmtNumber } from '../../layout/components.js';
import { links } from './retraining-format.js';

interface Side {
  key: 'recent' | 'original';
  label: string;
  cmp: HoldoutComparison | null;
  /** The ratio this side must stay at or under. */
  limit: number;
  rule: string;
}

function sides(g: GateComparison): Side[] {
  return [
    {
      key: 'recent',
      label: 'Recent holdout',
      cmp: g.recent,
      limit: 1 - g.minImprovement,
      rule: `at least ${fmtNumber(g.minImprovement * 100, 0)} % better`,
    },
    {
      key: 'original',
      label: 'Original holdout',
      cmp: g.original,
      limit: 1 + g.originalTolerance,
      rule: `at most ${fmtNumber(g.originalTolerance * 100, 0)} % worse`,
    },
  ];
}

function Held(props: { passed: boolean | null }) {
  if (props.passed === null) return <Badge tone="muted">too few to judge</Badge>;
  return props.passed ? <Badge tone="ok">held</Badge> : <Badge tone="bad">failed</Badge>;
}

const W = 420;
const BAR_H = 16;
const LABEL_W = 120;
const VALUE_W = 60;

/** Champion and challenger MAE per holdout as horizontal bars, on one scale. */
export function GateBars(props: { gate: GateComparison }) {
  const rows = sides(props.gate).filter((s) => s.cmp !== null);
  if (rows.length === 0) return null;
  const max = Math.max(...rows.flatMap((s) => [s.cmp!.champion.mae, s.cmp!.challenger.mae]), 1e-9);
  const scale = (v: number) => Math.max(1, ((W - LABEL_W - VALUE_W) * v) / max);
  const groupH = BAR_H * 2 + 14;
  const height = rows.length * groupH + 4;
  const title = rows
    .map(
      (s) =>
        `${s.label}: champion MAE ${fmtNumber(s.cmp!.champion.mae)}, challenger ${fmtNumber(s.cmp!.challenger.mae)}`,
    )
    .join('; ');
  return (
    <svg
      class="gate-bars"
      viewBox={`0 0 ${W} ${height}`}
      width={W}
      height={height}
      role="img"
      aria-label={`Mean absolute error, champion vs challenger. ${title}`}
    >
      {rows.map((s, i) => {
        const y = i * groupH + 2;
        const c = s.cmp!;
        return (
          <g>
            <text class="label" x={0} y={y + BAR_H + 4}>
              {s.key}
            </text>
            <rect class="bar-champion" x={LABEL_W} y={y} width={scale(c.champion.mae)} height={BAR_H} />
            <text class="value" x={LABEL_W + scale(c.champion.mae) + 4} y={y + BAR_H - 4}>
              {`v${props.gate.champion.version} ${fmtNumber(c.champion.mae)}`}
            </text>
            <rect class="bar-challenger" x={LABEL_W} y={y + BAR_H + 2} width={scale(c.challenger.mae)} height={BAR_H} />
            <text class="value" x={LABEL_W + scale(c.challenger.mae) + 4} y={y + 2 * BAR_H - 2}>
              {`new ${fmtNumber(c.challenger.mae)}`}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function GateComparisonView(props: { gate: GateComparison; model: string }) {
  const { gate, model } = props;
  return (
    <div data-testid="gate-comparison" data-verdict={gate.verdict}>
      <p>
        Verdict: {gate.verdict === 'accepted' ? <Badge tone="ok">accepted</Badge> : <Badge tone="bad">rejected</Badge>}{' '}
        — champion{' '}
        <a href={links.version(model, gate.champion.version)}>{`${gate.champion.model} v${gate.champion.version}`}</a>{' '}
        vs challenger from training run <code>{gate.challenger.trainingRunId}</code>, evaluated{' '}
        <Time at={gate.evaluatedAt} />.
      </p>
      <div class="table-wrap">
        <table>
          <caption class="muted">Mean absolute error (MAE) and RMSE on each holdout</caption>
          <thead>
            <tr>
              <th scope="col">Holdout</th>
              <th scope="col" class="num">
                Items
              </th>
              <th scope="col" class="num">
                Champion MAE
              </th>
              <th scope="col" class="num">
                Challenger MAE
              </th>
              <th scope="col" class="num">
                Ratio
              </th>
              <th scope="col">Threshold</th>
              <th scope="col">Condition</th>
            </tr>
          </thead>
          <tbody>
            {sides(gate).map((s) => (
              <tr data-holdout={s.key}>
                <th scope="row">{s.label}</th>
                {s.cmp ? (
                  <>
                    <td class="num">{s.cmp.count}</td>
                    <td class="num" title={`RMSE ${fmtNumber(s.cmp.champion.rmse)}`}>
                      {fmtNumber(s.cmp.champion.mae, 3)}
                    </td>
                    <td class="num" title={`RMSE ${fmtNumber(s.cmp.challenger.rmse)}`}>
                      {fmtNumber(s.cmp.challenger.mae, 3)}
                    </td>
                    <td class="num">{fmtNumber(s.cmp.ratio, 3)}</td>
                    <td>
                      ratio ≤ {fmtNumber(s.limit, 2)} ({s.rule})
                    </td>
                    <td>
                      <Held passed={s.cmp.passed} />
                    </td>
                  </>
                ) : (
                  <td colspan={6} class="muted">
                    not evaluated (no such holdout)
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <figure>
        <figcaption>MAE, champion (upper bar) vs challenger (lower bar)</figcaption>
        <GateBars gate={gate} />
      </figure>
      <ul>
        {gate.reasons.map((r) => (
          <li>{r}</li>
        ))}
      </ul>
    </div>
  );
}
