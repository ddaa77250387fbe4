/**
 * @module store/loop-store-types
 * The store's side of the retraining loop: the `loop` repository (loop_policies, loop_runs).
 * A policy per model and one record per loop run, each kept as a JSON body beside the columns
 * lists and the loop engine's guards filter on. At most one run per model is running at a time,
 * across every server sharing the database: the store itself refuses a second one.
 */
import type { LoopPolicy, LoopRun, LoopRunState } from '@edgeloop/protocol/rest';

export interface LoopPolicyRecord {
  /** With every default applied (loopPolicySchema's output). */
  policy: LoopPolicy;
  updatedAt: number;
  /** The token name that set it, or `config`. */
  updatedBy: string;
  /** api: set through the API or CLI; config: from the server's config file. */
  source: 'api' | 'config';
}

export interface LoopRunQuery {
  model?: string;
  state?: LoopRunState;
  /** Only runs created before this (createdAt <): the previous page's last createdAt. */
  before?: number;
  /** Default 100. */
  limit?: number;
}

export interface LoopRepository {
  /** Creates or replaces the policy of `r.policy.model`. */
  putPolicy(r: LoopPolicyRecord): Promise<void>;
  getPolicy(model: string): Promise<LoopPolicyRecord | undefined>;
  /** By model. */
  listPolicies(): Promise<LoopPolicyRecord[]>;
  /** False when the model had no policy. */
  deletePolicy(model: string): Promise<boolean>;

  /**
   * Inserts the run only if no run of its model is in state 'running', atomically — also between
   * servers sharing one database (a unique index on the model of running runs). False, storing
   * nothing, when one is running (or a run with this id exists).
   */
  startRun(run: LoopRun): Promise<boolean>;
  /** Writes the whole run (state, step, ids, steps, times). */
  updateRun(run: LoopRun): Promise<void>;
  getRun(id: string): Promise<LoopRun | undefined>;
  /** Newest first (createdAt desc, then id desc). */
  listRuns(q?: LoopRunQuery): Promise<LoopRun[]>;
  runningRun(model: string): Promise<LoopRun | undefined>;
  /** Runs of the model created at or after `since` whose trigger.actor is 'system' (the daily budget). */
  countAutomaticSince(model: string, since: number): Promise<number>;
  /** The most recently finished run of the model (finishedAt desc), for the cool-down. */
  lastFinished(model: string): Promise<LoopRun | undefined>;
}
