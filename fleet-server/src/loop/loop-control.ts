/**
 * @module loop/loop-control
 * What the REST routes (api/loop-routes.ts) need from the retraining loop engine: an operator's
 * manual trigger and cancel. The routes read policies and runs from the store themselves; only
 * these two act, so the engine keeps the one path that starts and stops runs.
 */
import type { LoopRun } from '@edgeloop/protocol/rest';

export interface LoopControl {
  /**
   * Starts a run of the model's policy now (a manual trigger). Throws RegistryError: 404 when the
   * model has no policy, 409 when one of its runs is running or (unless `force`) the cool-down
   * or daily budget forbids it — with a reason that says what to do.
   */
  trigger(model: string, req: { reason?: string; force: boolean }, actor: string): Promise<LoopRun>;
  /** Cancels a running run. Throws RegistryError: 404 for an unknown run, 409 for a finished one. */
  cancel(id: string, reason: string | undefined, actor: string): Promise<LoopRun>;
}
