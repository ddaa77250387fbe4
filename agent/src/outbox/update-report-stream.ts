/**
 * @module outbox/update-report-stream
 * Update reports (store/update-report-store.ts) as an outbox stream on `…/update`, one report per
 * message, acked with kind "update" naming the report's position.
 *
 * The server takes a report only on the session of the device's current birth, with a reportSeq
 * above the last one it took in that session (protocol messages.ts). So a report is stamped as it
 * goes out: with the session of the connection it goes out on and the next reportSeq of that
 * session. Sent again on the same session (an ack timeout), it keeps its stamp, and the server,
 * which took it already, acks it as a repeat instead of storing it twice. Sent again on a new
 * session (a reconnect or a restart), it is stamped anew.
 */
import type { Logger } from 'pino';
import { encodeMessage, type UpdateReport } from '@edgeloop/protocol';
import type { UpdateReportStore } from '../store/update-report-store.js';
import type { OutboxBatch, OutboxStream } from './stream.js';

export class UpdateReportStream implements OutboxStream {
  readonly kind = 'update' as const;
  /** reportSeq stamps given in `session`, by report position; a new session starts over at 1. */
  private stamps = new Map<number, number>();
  private session: number | undefined;
  private lastReportSeq = 0;

  constructor(
    private readonly store: UpdateReportStore,
    private readonly streamId: string,
    /** The session of the last birth sent on the fleet link; undefined before the first. */
    private readonly currentSession: () => number | undefined,
    private readonly log: Logger,
  ) {}

  next(after: number): OutboxBatch | undefined {
    const session = this.currentSession();
    if (session === undefined) return undefined;
    const queued = this.store.after(after);
    if (!queued) return undefined;
    if (session !== this.session) {
      this.session = session;
      this.stamps = new Map();
      this.lastReportSeq = 0;
    }
    let reportSeq = this.stamps.get(queued.id);
    if (reportSeq === undefined) {
      reportSeq = ++this.lastReportSeq;
      this.stamps.set(queued.id, reportSeq);
    }
    const report: UpdateReport = {
      v: 1,
      ...queued.body,
      ts: queued.ts,
      session,
      reportSeq,
      stream: this.streamId,
      id: queued.id,
    };
    return { from: queued.id, to: queued.id, payload: encodeMessage(report) };
  }

  acknowledge(from: number, to: number): number {
    for (const id of this.stamps.keys()) if (id >= from && id <= to) this.stamps.delete(id);
    return this.store.remove(from, to);
  }

  reject(from: number, to: number, reason: string): number {
    this.log.error({ from, to, reason }, 'fleet server refused update reports; dropped them');
    return this.acknowledge(from, to);
  }

  pending(): number {
    return this.store.count();
  }
}
