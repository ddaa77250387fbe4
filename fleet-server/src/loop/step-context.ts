/**
 * @module loop/step-context
 * What every loop step is given, and what they share: the actor of automatic steps and how
 * durations read in outcomes.
 */
import type { LoopDeps } from './loop-ports.js';

/** The actor of every automatic step in the audit log. */
export const SYSTEM = 'system';

export interface StepContext {
  deps: LoopDeps;
  signal: AbortSignal;
}

export const fmtMs = (ms: number) => (ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${Math.round(ms / 1000)} s`);
