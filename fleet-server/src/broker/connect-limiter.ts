/**
 * @module broker/connect-limiter
 * Who may open an MQTT connection now: a token bucket per source address, and a cap on
 * connections accepted but not yet authenticated (pending) across all sources.
 *
 * A connection takes a token when it is accepted and gives it back when the client
 * authenticates. So the bucket bounds, per address, both the connections pending at once
 * (at most `burst`) and the rate of connections that never authenticate (wrong password, no
 * CONNECT, oversized or malformed CONNECT: `perSecond` once the burst is spent), while
 * honest clients cost nothing however fast they come: 1,000 devices behind one NAT, or the
 * fleet benchmark on loopback, connect in one go as long as they authenticate.
 *
 * Addresses are keyed by IPv4 address or IPv6 /64 (one host usually owns a whole /64, so
 * rotating within it must not buy fresh buckets).
 */
import { isIPv6 } from 'node:net';

export interface ConnectLimits {
  /** Connections one address may have pending (and failures it may have in a row before it waits). */
  burst: number;
  /** Tokens an address gets back per second: its sustained rate of connections that fail. */
  perSecond: number;
  /** Pending connections over all addresses. */
  maxPending: number;
}

export type Admission = { ok: true } | { ok: false; reason: 'connect_rate' | 'pending_limit' };

interface Bucket {
  tokens: number;
  at: number;
  pending: number;
}

/** Buckets kept before full, idle ones are swept (each is a few dozen bytes). */
const SWEEP_ABOVE = 10_000;

export class ConnectLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private pendingTotal = 0;
  private sweptAt = 0;

  constructor(
    private readonly limits: ConnectLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get pending(): number {
    return this.pendingTotal;
  }

  /** Takes a token and a pending slot for a new connection from `address`, or says why not. */
  admit(address: string): Admission {
    if (this.pendingTotal >= this.limits.maxPending) return { ok: false, reason: 'pending_limit' };
    const key = addressKey(address);
    const bucket = this.refill(key);
    if (bucket.tokens < 1) return { ok: false, reason: 'connect_rate' };
    bucket.tokens -= 1;
    bucket.pending++;
    this.pendingTotal++;
    return { ok: true };
  }

  /** The admitted connection authenticated (its token comes back) or ended without (it stays spent). */
  settle(address: string, authenticated: boolean): void {
    const key = addressKey(address);
    const bucket = this.refill(key);
    bucket.pending = Math.max(0, bucket.pending - 1);
    this.pendingTotal = Math.max(0, this.pendingTotal - 1);
    if (authenticated) bucket.tokens = Math.min(this.limits.burst, bucket.tokens + 1);
    // At most once a second: under a spread-out flood the map stays large and a sweep is O(n).
    if (this.buckets.size > SWEEP_ABOVE && this.now() - this.sweptAt >= 1000) this.sweep();
  }

  private refill(key: string): Bucket {
    const t = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.limits.burst, at: t, pending: 0 };
      this.buckets.set(key, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + ((t - bucket.at) / 1000) * this.limits.perSecond);
    bucket.at = t;
    return bucket;
  }

  /** Forgets addresses with nothing pending whose bucket has refilled: they are as good as new. */
  private sweep(): void {
    this.sweptAt = this.now();
    for (const [key] of this.buckets) {
      const bucket = this.refill(key);
      if (bucket.pending === 0 && bucket.tokens >= this.limits.burst) this.buckets.delete(key);
    }
  }
}

/** IPv4 (also when IPv4-mapped) as is; IPv6 by its /64. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::') as [string, string?];
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''));
}
