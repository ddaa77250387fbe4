/**
 * @module monitoring/messages
 * What an agent sends about monitoring: edge summaries (bandwidth mode: per-window rollups
 * instead of every record) on the `summary` channel and its local alerts on the `alert`
 * channel. Both are outbox streams of the agent, acknowledged by the fleet (Ack kinds "summary"
 * and "alert") once stored, so neither is lost across disconnects.
 */
import { z } from 'zod';
import { isValidId } from '../topics.js';
import { rollupSchema } from './rollup.js';
import { ROLLUP_ROLES } from './windows.js';

const id = z.string().refine(isValidId, 'must be 1-64 characters from A-Z a-z 0-9 _ . -');
const seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const epochMs = z.number().int().min(0);

/** One window of one model version on one device, summarised. */
export const edgeSummarySchema = z.object({
  /** Position in the agent's summary stream; the ack names it. */
  seq,
  model: id,
  version: z.number().int().min(1),
  role: z.enum(ROLLUP_ROLES),
  /** binSpecId() of the edges the histograms were counted on; the server refuses another spec. */
  specId: z.string().max(64),
  /** Device-time window [windowStart, windowStart + windowMs). */
  windowStart: epochMs,
  windowMs: z.number().int().min(1000).max(86_400_000),
  rollup: rollupSchema,
});
export type EdgeSummary = z.infer<typeof edgeSummarySchema>;

export const summaryBatchSchema = z.object({
  v: z.literal(1),
  stream: id,
  summaries: z.array(edgeSummarySchema).min(1).max(500),
});
export type SummaryBatch = z.infer<typeof summaryBatchSchema>;

export const LOCAL_ALERT_STATES = ['firing', 'resolved'] as const;

/** A detector or device rule on the agent changed state. */
export const localAlertSchema = z.object({
  v: z.literal(1),
  stream: id,
  seq,
  /** Stable per alert (rule or detector × model version) on this device, over firing and resolved. */
  alertId: id,
  model: id,
  version: z.number().int().min(1),
  /** The device rule's name, or "page-hinkley" for the label-free detector. */
  rule: z.string().min(1).max(128),
  metric: z.string().min(1).max(128),
  state: z.enum(LOCAL_ALERT_STATES),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  samples: z.number().int().min(0),
  /** Device time of the change. */
  ts: epochMs,
  /** Since when the device was without its fleet connection when this happened, if it was. */
  offlineSince: epochMs.optional(),
  reason: z.string().max(1024),
});
export type LocalAlert = z.infer<typeof localAlertSchema>;
