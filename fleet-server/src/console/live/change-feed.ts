/**
 * @module console/live/change-feed
 * Tells watching browsers which topics changed. While at least one browser listens, it reads the
 * store's change marks every `intervalMs` (one cheap query set per server, however many browsers
 * watch) and hands the changed topics to every listener; with nobody listening it does nothing.
 */
import type { Logger } from 'pino';
import type { ChangeMarkRepository, ChangeTopic } from '../../store/fleet-store.js';

export type ChangeListener = (topics: ChangeTopic[]) => void;

export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private timer: NodeJS.Timeout | undefined;
  private last: Record<string, string> | undefined;
  private reading = false;

  constructor(
    private readonly changes: ChangeMarkRepository,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
  ) {}

  get listenerCount(): number {
    return this.listeners.size;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  private async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const marks = await this.changes.marks();
      const before = this.last;
      this.last = marks;
      if (!before) return;
      const changed = (Object.keys(marks) as ChangeTopic[]).filter((t) => marks[t] !== before[t]);
      if (changed.length === 0) return;
      for (const listener of this.listeners) listener(changed);
    } catch (err) {
      this.log.warn({ err }, 'console live updates: cannot read change marks (browsers retry)');
    } finally {
      this.reading = false;
    }
  }
}
