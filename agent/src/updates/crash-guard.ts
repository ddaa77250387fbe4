/**
 * @module updates/crash-guard
 * A boot counter for new models. Some failures cannot be caught before the swap: a model that
 * makes ONNX Runtime segfault on the first real input, or leaks until the OOM killer comes. The
 * agent then dies, systemd restarts it, it loads the same model and dies again.
 *
 * So a newly activated version is on probation (persisted with the activation, store/model-state)
 * until it has served `healthyAfterMs`. Every start counts one more start before the model is
 * even loaded, since loading itself may be what crashes. When `crashLoopStarts` consecutive
 * starts never reached healthy, the agent reverts to the previous version at startup instead of
 * loading it, and the version is marked failed (crash-loop): never tried again on this device.
 */
import type { Logger } from 'pino';
import type { ActiveModelRow, ModelState } from '../store/model-state.js';
import type { UpdateOptions } from './update-options.js';

export type StartDecision = { action: 'load' } | { action: 'revert'; starts: number };

export class CrashGuard {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly state: ModelState,
    private readonly opts: Pick<UpdateOptions, 'crashLoopStarts' | 'healthyAfterMs'>,
    private readonly log: Logger,
  ) {}

  /** At startup, before `row` is loaded: count this start, or decide that it is one too many. */
  onStart(row: ActiveModelRow): StartDecision {
    const p = this.state.probation(row.name);
    if (!p) return { action: 'load' };
    if (p.version !== row.version || p.sha256 !== row.sha256) {
      // Left over from a version that is no longer active: nothing to watch.
      this.state.endProbation(row.name, p.version);
      return { action: 'load' };
    }
    if (p.starts >= this.opts.crashLoopStarts) return { action: 'revert', starts: p.starts };
    const starts = this.state.countStart(row.name);
    this.log.info(
      { model: row.name, version: row.version, starts, limit: this.opts.crashLoopStarts },
      'new model still on probation: start counted',
    );
    return { action: 'load' };
  }

  /** Once `name` has served healthyAfterMs at this version, it stops being a revert candidate. */
  watch(name: string, version: number): void {
    this.unwatch(name);
    if (this.state.probation(name)?.version !== version) return;
    const timer = setTimeout(() => {
      this.timers.delete(name);
      try {
        this.state.endProbation(name, version);
        this.log.info({ model: name, version }, `model ran ${this.opts.healthyAfterMs / 1000} s: probation over`);
      } catch (err) {
        this.log.warn(
          { model: name, err: (err as Error).message },
          'could not end the probation of a model; it is retried at the next start',
        );
      }
    }, this.opts.healthyAfterMs);
    timer.unref();
    this.timers.set(name, timer);
  }

  unwatch(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
