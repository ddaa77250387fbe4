/**
 * @module updates/update-reporter
 * How the update code tells the fleet what became of a model version: one report per state
 * (downloading, verified, active, rejected, failed, removed), flagged role "shadow" when it is
 * about the shadow slot. Serving and shadow updates each get their own reporter, so a report's
 * role follows from who made it. Reports go into the agent's outbox (agent.ts).
 */
import type { Logger } from 'pino';
import type { Manifest, UpdateState } from '@edgeloop/protocol';
import type { UpdateReportBody } from '../store/update-report-store.js';

export type ReportedVersion = Pick<Manifest, 'name' | 'version'>;

export interface UpdateReporter {
  report(
    m: ReportedVersion,
    state: UpdateState,
    code?: string,
    reason?: string,
    extra?: Partial<UpdateReportBody>,
  ): void;
  /** Logs and reports a refusal; a manifest too broken to name its model is only logged. */
  reject(m: ReportedVersion | undefined, code: string, reason: string): void;
}

export function updateReporter(
  send: (report: UpdateReportBody) => void,
  log: Logger,
  role: 'serve' | 'shadow' = 'serve',
): UpdateReporter {
  const tag = role === 'shadow' ? { role } : {};
  const report: UpdateReporter['report'] = (m, state, code, reason, extra = {}) =>
    send({
      model: m.name,
      version: m.version,
      state,
      ...(code ? { code } : {}),
      ...(reason ? { reason } : {}),
      ...tag,
      ...extra,
    });
  return {
    report,
    reject(m, code, reason) {
      log.warn({ model: m?.name, version: m?.version, code, reason, ...tag }, 'model update rejected');
      if (m) report(m, 'rejected', code, reason);
    },
  };
}
