/**
 * @module monitoring/webhook-sender
 * Webhook deliveries: a JSON POST signed with HMAC-SHA256 over the exact body
 * (`x-edgeloop-signature: sha256=<hex>`, the receiver recomputes it with the shared secret),
 * retried with exponential backoff (1 s, 2 s, 4 s … capped at 5 minutes, 10 attempts). Every
 * delivery is stored before the first attempt and after each one, so a restarted server resumes
 * the retries where they were. Retries run on wall time, not data time: the receiver lives in
 * the real world even when the simulator compresses time.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { MonitoringRepository, WebhookDelivery } from '../store/fleet-store.js';
import { sortableId } from './incident-tracker.js';

export const SIGNATURE_HEADER = 'x-edgeloop-signature';

export interface WebhookRetryPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  /** Each attempt's time limit. */
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = {
  firstDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  maxAttempts: 10,
  timeoutMs: 10_000,
};

/** The header value for `body` under `secret`. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class WebhookSender {
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private readonly policy: WebhookRetryPolicy;

  constructor(
    private readonly o: {
      repo: MonitoringRepository;
      /** The shared secret the receivers check signatures with; none: sent unsigned (and said so at start). */
      secret?: string;
      log: Logger;
      retry?: Partial<WebhookRetryPolicy>;
      /** How often due retries are looked for. */
      pollMs?: number;
    },
  ) {
    this.policy = { ...DEFAULT_WEBHOOK_RETRY, ...o.retry };
  }

  start(): void {
    if (this.timer) return;
    if (this.o.secret === undefined)
      this.o.log.warn('webhooks are sent unsigned: set monitoring.webhookSecret so receivers can check them');
    this.timer = setInterval(() => void this.drain(), this.o.pollMs ?? 1_000);
    this.timer.unref();
    void this.drain();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.draining;
  }

  /** Stores a delivery and tries it at once. */
  async enqueue(url: string, event: string, payload: unknown): Promise<WebhookDelivery> {
    const d: WebhookDelivery = {
      id: sortableId('wh'),
      url,
      event,
      body: JSON.stringify({ event, ...(payload as object) }),
      status: 'pending',
      attempts: 0,
      nextAttemptAt: Date.now(),
      lastError: null,
      createdAt: Date.now(),
      deliveredAt: null,
    };
    await this.o.repo.putDelivery(d);
    void this.drain();
    return d;
  }

  /** Attempts every due delivery once (one drain at a time). */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        for (const d of await this.o.repo.dueDeliveries(Date.now(), 50)) await this.attempt(d);
      } catch (err) {
        this.o.log.error({ err: (err as Error).message }, 'webhook deliveries could not be read');
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  private async attempt(d: WebhookDelivery): Promise<void> {
    const attempts = d.attempts + 1;
    let error: string | null = null;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.o.secret !== undefined ? { [SIGNATURE_HEADER]: signBody(this.o.secret, d.body) } : {}),
          'x-edgeloop-delivery': d.id,
          'x-edgeloop-event': d.event,
        },
        body: d.body,
        signal: AbortSignal.timeout(this.policy.timeoutMs),
      });
      await res.body?.cancel();
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).message;
    }
    if (error === null) {
      await this.o.repo.putDelivery({ ...d, attempts, status: 'delivered', deliveredAt: Date.now(), lastError: null });
      return;
    }
    const gaveUp = attempts >= this.policy.maxAttempts;
    const delay = Math.min(this.policy.firstDelayMs * 2 ** (attempts - 1), this.policy.maxDelayMs);
    await this.o.repo.putDelivery({
      ...d,
      attempts,
      status: gaveUp ? 'failed' : 'pending',
      nextAttemptAt: Date.now() + delay,
      lastError: error,
    });
    this.o.log.warn(
      { url: d.url, delivery: d.id, attempts, error, ...(gaveUp ? {} : { retryInMs: delay }) },
      gaveUp ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry',
    );
  }
}
