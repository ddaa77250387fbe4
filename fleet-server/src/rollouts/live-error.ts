/**
 * @module rollouts/live-error
 * Live error per arm of a rollout, straight from the telemetry table: mean absolute error of
 * prediction vs reference over records that have both (late reference values count as soon as
 * they arrive). Times are the server's receive times, so device clocks do not matter.
 *
 * - candidate arm: the candidate version's records on rollout devices, received after the device
 *   was given the candidate and after `judgedSince` (a resume starts a fresh judgement).
 * - baseline arm (serve rollouts): each device's previous version, on devices given the candidate
 *   during `lookbackMs` before their switch, plus devices not yet given it since the rollout began.
 * - baseline arm (shadow): the serving version on the same devices over the same window, since
 *   there both run side by side on the same inputs. Shadow records (telemetry.shadow = 1) only
 *   ever count for a shadow rollout's candidate arm.
 */
import type { ErrorArm } from '@edgeloop/protocol';
import type { FleetDb } from '../store/fleet-db.js';

export interface ArmQuery {
  rolloutId: string;
  model: string;
  candidate: number;
  baselineVersion: number | null;
  createdAt: number;
  judgedSince: number;
  lookbackMs: number;
  shadow: boolean;
}

const JOINED = 't.prediction IS NOT NULL AND t.reference IS NOT NULL';

function candidateWhere(shadow: boolean): string {
  return `t.model = @model AND t.version = @candidate AND t.shadow = ${shadow ? 1 : 0} AND ${JOINED}
          AND rd.assigned_at IS NOT NULL AND t.received_at >= rd.assigned_at AND t.received_at >= @judgedSince`;
}

function baselineWhere(shadow: boolean): string {
  if (shadow) {
    return `t.model = @model AND ${JOINED} AND t.version = rd.previous_version AND t.shadow = 0
            AND rd.assigned_at IS NOT NULL AND t.received_at >= rd.assigned_at AND t.received_at >= @judgedSince`;
  }
  return `t.model = @model AND ${JOINED} AND t.version = rd.previous_version AND t.shadow = 0 AND (
            (rd.assigned_at IS NOT NULL AND t.received_at < rd.assigned_at AND t.received_at >= rd.assigned_at - @lookbackMs)
            OR (rd.state = 'pending' AND t.received_at >= @createdAt))`;
}

export class LiveErrorQueries {
  constructor(private readonly db: FleetDb) {}

  arms(q: ArmQuery): { candidate: ErrorArm; baseline: ErrorArm } {
    const params = { rid: q.rolloutId, model: q.model, candidate: q.candidate, judgedSince: q.judgedSince, createdAt: q.createdAt, lookbackMs: q.lookbackMs };
    const from = 'FROM telemetry t JOIN rollout_devices rd ON rd.rollout_id = @rid AND rd.device_id = t.device_id';
    const agg = (where: string, p: Record<string, unknown>) =>
      this.db.prepare(`SELECT count(*) AS n, avg(abs(t.prediction - t.reference)) AS mae ${from} WHERE ${where}`).get(p) as { n: number; mae: number | null };
    const c = agg(candidateWhere(q.shadow), params);
    const { candidate: _c, ...baseParams } = params;
    const b = agg(baselineWhere(q.shadow), baseParams);
    return {
      candidate: { version: q.candidate, records: c.n, mae: c.n ? c.mae : null },
      baseline: { version: q.baselineVersion, records: b.n, mae: b.n ? b.mae : null },
    };
  }

  /** The newest predictions of each arm (not only reference-joined ones), for drift. */
  predictions(q: ArmQuery, limit = 5000): { candidate: number[]; baseline: number[] } {
    const from = 'FROM telemetry t JOIN rollout_devices rd ON rd.rollout_id = @rid AND rd.device_id = t.device_id';
    const unjoined = (where: string) => where.replace(`AND ${JOINED}`, '').replace(JOINED, 't.prediction IS NOT NULL');
    const base = { rid: q.rolloutId, model: q.model, judgedSince: q.judgedSince, createdAt: q.createdAt, lookbackMs: q.lookbackMs };
    const pick = (where: string, p: Record<string, unknown>) =>
      (this.db.prepare(`SELECT t.prediction AS x ${from} WHERE t.prediction IS NOT NULL AND ${unjoined(where)} ORDER BY t.id DESC LIMIT ${limit}`).all(p) as Array<{ x: number }>).map((r) => r.x);
    return { candidate: pick(candidateWhere(q.shadow), { ...base, candidate: q.candidate }), baseline: pick(baselineWhere(q.shadow), base) };
  }
}
