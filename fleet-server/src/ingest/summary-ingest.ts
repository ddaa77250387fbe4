/**
 * @module ingest/summary-ingest
 * Edge summaries (bandwidth mode): an agent sends per-window rollups instead of its records, and
 * they are added to the same rollups the ingest folds records into — the device's window as the
 * agent cut it, and the group's and fleet's minute window holding its start (a longer window is
 * kept as it is), so every read merges both kinds alike.
 *
 * A summary counted on other edges than the fleet's for that version cannot be merged: it is
 * refused with the reason, and so is one for a version the fleet does not know. Each summary is
 * added once per (device, stream, seq), so re-sends are harmless. The outcome is acked per run
 * of consecutive seqs with the same outcome (Ack kind "summary").
 */
import type { Logger } from 'pino';
import {
  binSpecId,
  binSpecOfVersion,
  decodeMessage,
  deviceTopic,
  encodeMessage,
  MINUTE_MS,
  rollupFromWire,
  summaryBatchSchema,
  windowStart,
  type Ack,
  type EdgeSummary,
  type ScopeKey,
} from '@edgeloop/protocol';
import type { FleetStore, RollupDelta } from '../store/fleet-store.js';
import type { ChannelHandler } from './fleet-bus.js';

type Outcome = { status: 'stored' } | { status: 'rejected'; reason: string };

/** The deltas one summary adds: the device's window as given; group and fleet re-keyed to minutes. */
export function summaryDeltas(deviceId: string, group: string | null, s: EdgeSummary): RollupDelta[] {
  const rollup = rollupFromWire(s.rollup);
  const key = { model: s.model, version: s.version, role: s.role };
  const shared =
    s.windowMs <= MINUTE_MS
      ? { windowStart: windowStart(s.windowStart, MINUTE_MS), windowMs: MINUTE_MS }
      : { windowStart: s.windowStart, windowMs: s.windowMs };
  const scopes: ScopeKey[] = group ? ['fleet', `group:${group}`] : ['fleet'];
  return [
    { ...key, scope: `device:${deviceId}`, windowStart: s.windowStart, windowMs: s.windowMs, rollup },
    ...scopes.map((scope) => ({ ...key, scope, ...shared, rollup })),
  ];
}

export function summaryIngest(deps: {
  store: Pick<FleetStore, 'rollups' | 'models' | 'devices'>;
  publish: (topic: string, payload: Buffer) => Promise<void>;
  log: Logger;
}): ChannelHandler {
  const specIds = new Map<string, string | null>();
  const specIdOf = async (model: string, version: number): Promise<string | null> => {
    const k = `${model}\u0000${version}`;
    if (specIds.has(k)) return specIds.get(k)!;
    const v = await deps.store.models.get(model, version);
    const id = v ? binSpecId(binSpecOfVersion(v.manifest, v.trainingSummary)) : null;
    // An unknown version may be registered later: only known ones are remembered.
    if (id !== null) specIds.set(k, id);
    return id;
  };

  return async (deviceId, payload) => {
    const decoded = decodeMessage(summaryBatchSchema, payload);
    if (!decoded.ok)
      return void deps.log.warn(
        { deviceId, code: decoded.code, reason: decoded.reason },
        'rejected edge summary batch',
      );
    const batch = decoded.value;
    const group = (await deps.store.devices.get(deviceId))?.group ?? null;
    const outcomes: Array<{ seq: number; outcome: Outcome }> = [];
    for (const s of batch.summaries) {
      const expected = await specIdOf(s.model, s.version);
      let outcome: Outcome;
      if (expected === null)
        outcome = {
          status: 'rejected',
          reason: `${s.model} v${s.version} is not registered on this fleet; summaries are kept only for registered versions`,
        };
      else if (s.specId !== expected)
        outcome = {
          status: 'rejected',
          reason: `summary counted on bin spec ${s.specId}, the fleet's for ${s.model} v${s.version} is ${expected}: the agent must take the edges from the version's manifest and training baseline`,
        };
      else {
        const added = await deps.store.rollups.addSummary(
          { deviceId, stream: batch.stream, seq: s.seq },
          summaryDeltas(deviceId, group, s),
        );
        if (!added)
          deps.log.debug({ deviceId, stream: batch.stream, seq: s.seq }, 'edge summary re-sent; added before');
        outcome = { status: 'stored' };
      }
      if (outcome.status === 'rejected')
        deps.log.warn({ deviceId, seq: s.seq, reason: outcome.reason }, 'rejected edge summary');
      outcomes.push({ seq: s.seq, outcome });
    }
    for (const ack of acksOf(batch.stream, outcomes))
      await deps.publish(deviceTopic(deviceId, 'ack'), encodeMessage(ack));
  };
}

/** One ack per run of consecutive seqs with the same outcome. */
export function acksOf(stream: string, outcomes: ReadonlyArray<{ seq: number; outcome: Outcome }>): Ack[] {
  const sorted = [...outcomes].sort((a, b) => a.seq - b.seq);
  const acks: Ack[] = [];
  for (const { seq, outcome } of sorted) {
    const last = acks[acks.length - 1];
    const reason = outcome.status === 'rejected' ? outcome.reason : undefined;
    if (last && last.seqTo + 1 === seq && last.status === outcome.status && last.reason === reason) last.seqTo = seq;
    else
      acks.push({
        v: 1,
        kind: 'summary',
        stream,
        seqFrom: seq,
        seqTo: seq,
        status: outcome.status,
        ...(reason !== undefined ? { reason } : {}),
      });
  }
  return acks;
}
