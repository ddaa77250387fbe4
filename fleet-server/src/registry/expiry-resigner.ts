/**
 * @module registry/expiry-resigner
 * Manifests expire (a frozen or replayed desired state stops working after manifestTtlDays);
 * versions that are still wanted must therefore be re-signed before that. Every interval, each
 * version assigned to at least one device whose manifest expires within half its TTL is
 * re-signed (same version and artifact, fresh created/expires) and the affected devices get
 * their desired state again. Devices running it only swap the stored envelope.
 *
 * Half the TTL leaves a device that is offline for up to half the TTL still able to restart on
 * a manifest it has; the check runs at least four times per TTL so nothing slips through.
 */
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { Deployments } from '../deploy/deployments.js';
import { assignedVersions, devicesWithVersion } from '../deploy/assigned-versions.js';
import type { FleetStore } from '../store/fleet-store.js';
import type { ModelRegistry } from './model-registry.js';

export interface ResignOutcome {
  resigned: Array<{ name: string; version: number; expires: string }>;
  devices: number;
}

export class ExpiryResigner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ResignOutcome> | undefined;

  constructor(
    private readonly deps: {
      registry: ModelRegistry;
      store: FleetStore;
      deployments: Deployments;
      audit: AuditLog;
      log: Logger;
    },
  ) {}

  /** One pass; concurrent callers share it. */
  runOnce(now = new Date()): Promise<ResignOutcome> {
    this.running ??= this.pass(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Runs every `intervalMs` (capped at a quarter of the TTL); the timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.stop();
    const every = Math.max(1000, Math.min(intervalMs, this.deps.registry.manifestTtlMs / 4));
    this.timer = setInterval(() => {
      this.runOnce().catch((err: Error) =>
        this.deps.log.error({ err: err.message }, 're-signing expiring manifests failed; retried next interval'),
      );
    }, every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async pass(now: Date): Promise<ResignOutcome> {
    const threshold = now.getTime() + this.deps.registry.manifestTtlMs / 2;
    const resigned: ResignOutcome['resigned'] = [];
    const devices = new Set<string>();
    for (const { name, version } of await assignedVersions(this.deps.store)) {
      const row = await this.deps.store.models.get(name, version);
      if (!row || row.status === 'revoked' || Date.parse(row.manifest.expires) > threshold) continue;
      const fresh = await this.deps.registry.resign(name, version, now);
      resigned.push({ name, version, expires: fresh.manifest.expires });
      for (const d of await devicesWithVersion(this.deps.store, name, version)) devices.add(d);
    }
    if (resigned.length === 0) return { resigned, devices: 0 };
    const n = await this.deps.deployments.republish(devices);
    await this.deps.audit.record('system', 'model.resign', null, {
      versions: resigned,
      devices: n,
      reason: 'manifest expiry',
    });
    this.deps.log.info({ versions: resigned, devices: n }, 're-signed manifests that were about to expire');
    return { resigned, devices: n };
  }
}
