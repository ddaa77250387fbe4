/**
 * @module runtime/active-models
 * The set of models currently serving, by name. Swapping a model is a single map assignment, so
 * a request either runs the old session or the new one, never a half-loaded one; the old session
 * is released only after requests already running on it have finished.
 */
import type { ModelRunner } from './model-runner.js';

interface Slot {
  runner: ModelRunner;
  inFlight: number;
  retired: boolean;
}

export class ActiveModels {
  private readonly slots = new Map<string, Slot>();

  names(): string[] {
    return [...this.slots.keys()].sort();
  }

  get(name: string): ModelRunner | undefined {
    return this.slots.get(name)?.runner;
  }

  list(): ModelRunner[] {
    return this.names().map((n) => this.slots.get(n)!.runner);
  }

  /** Runs fn with the model pinned, so a concurrent swap cannot release its session mid-run. */
  async use<T>(name: string, fn: (runner: ModelRunner) => Promise<T>): Promise<T | undefined> {
    const slot = this.slots.get(name);
    if (!slot) return undefined;
    slot.inFlight++;
    try {
      return await fn(slot.runner);
    } finally {
      slot.inFlight--;
      if (slot.retired && slot.inFlight === 0) releaseQuietly(slot.runner);
    }
  }

  /** Installs a runner; returns the one it replaced (already scheduled for release). */
  swap(runner: ModelRunner): ModelRunner | undefined {
    const name = runner.manifest.name;
    const old = this.slots.get(name);
    this.slots.set(name, { runner, inFlight: 0, retired: false });
    if (old) this.retire(old);
    return old?.runner;
  }

  remove(name: string): void {
    const old = this.slots.get(name);
    this.slots.delete(name);
    if (old) this.retire(old);
  }

  async closeAll(): Promise<void> {
    const all = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(all.map((s) => s.runner.release().catch(() => undefined)));
  }

  private retire(slot: Slot): void {
    slot.retired = true;
    if (slot.inFlight === 0) releaseQuietly(slot.runner);
  }
}

/**
 * A retired session is released in the background; if ORT fails to free it, the only cost is
 * memory, and an unhandled rejection must not take the serving process down with it.
 */
function releaseQuietly(runner: ModelRunner): void {
  runner.release().catch(() => undefined);
}
