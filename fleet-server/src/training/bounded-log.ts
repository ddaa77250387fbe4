/**
 * @module training/bounded-log
 * A process log capped in size: the first quarter of the budget keeps the head (how the run
 * started, its parameters), the rest a rolling tail (how it ended), with a marker saying how much
 * was dropped between. A trainer printing without end cannot fill memory or the database.
 */
export class BoundedLog {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private head = '';
  private tail = '';
  private dropped = 0;

  constructor(maxBytes: number) {
    this.headLimit = Math.floor(maxBytes / 4);
    this.tailLimit = maxBytes - this.headLimit;
  }

  append(chunk: Buffer | string): void {
    let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.head.length < this.headLimit && this.dropped === 0 && this.tail === '') {
      const room = this.headLimit - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    if (!text) return;
    this.tail += text;
    if (this.tail.length > this.tailLimit) {
      const cut = this.tail.length - this.tailLimit;
      this.dropped += cut;
      this.tail = this.tail.slice(cut);
    }
  }

  text(): string {
    return this.dropped > 0
      ? `${this.head}\n[… ${this.dropped} characters dropped …]\n${this.tail}`
      : this.head + this.tail;
  }
}
