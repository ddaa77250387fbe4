/**
 * @module updates/update-manager
 * Applies the desired state the fleet publishes. Per model:
 *
 *   desired ─verify manifest─▶ downloading ─chunks+size+sha256─▶ verified ─load+warm-up+health check─▶ active
 *      │ (key, signature, expiry, target, version counter, failed before?)  │                         │
 *      └──────────────▶ rejected                                   failed ◀──┘   (old model keeps serving)
 *
 * Only a fully verified, loaded, warmed-up model that passed its health check is swapped in; until
 * then the previous one serves. Downloads resume from the last verified chunk after a reconnect or
 * a restart (chunked-download.ts). A new version that keeps the agent from staying up is reverted
 * at startup (crash-guard.ts). Each state is reported to the fleet server.
 *
 * Anti-rollback and failures: the accepted-version counter only ever holds versions that passed
 * their health check (a crash-loop revert lowers it back to the version that served before).
 * Counting a failed version as accepted would refuse the version the device actually runs, should
 * the fleet re-send it, and gains nothing: a failed version is refused by its own "failed" mark,
 * so replaying it can never get it accepted, while any later fix has a higher number and passes.
 */
import { readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  checkVersionCounter,
  isValidId,
  sha256Hex,
  verifyManifest,
  type DesiredModel,
  type DesiredState,
} from '@edgeloop/protocol';
import { ensurePrivateDir } from '@edgeloop/protocol/state-dir';
import { ActiveModels } from '../runtime/active-models.js';
import { ModelRunner, type RunnerOptions } from '../runtime/model-runner.js';
import type { ActiveModelRow, ModelState } from '../store/model-state.js';
import type { UpdateReportBody } from '../store/update-report-store.js';
import { ArtifactFetcher } from './artifact-fetcher.js';
import { CrashGuard } from './crash-guard.js';
import { runHealthCheck } from './health-check.js';
import type { TrustStore } from './trust-store.js';
import { ShadowUpdates } from '../runtime/shadow-updates.js';
import type { MqttChunkClient } from './mqtt-chunk-source.js';
import { updateOptionsSchema, type UpdateOptions, type UpdateOptionsInput } from './update-options.js';
import { updateReporter, type UpdateReporter } from './update-reporter.js';

export type { UpdateReportBody } from '../store/update-report-store.js';

export interface UpdateManagerDeps {
  modelsDir: string;
  /** Root keys and the keyset they signed: which keys may sign manifests (trust-store.ts). */
  trust: TrustStore;
  arch: string;
  hardware?: string;
  runner: RunnerOptions;
  models: ActiveModels;
  state: ModelState;
  report: (report: UpdateReportBody) => void;
  log: Logger;
  /** The agent config's `updates` section; defaults apply to anything left out. */
  options?: UpdateOptionsInput;
  /** Shadow slots: candidates run beside the serving models (runtime/shadow-updates.ts). */
  shadows?: ActiveModels;
  /** Artifact transfer over the fleet link (updates.transport mqtt/auto); absent = HTTP only. */
  chunks?: MqttChunkClient;
  /** The device's fleet credentials, sent with HTTP artifact downloads from the fleet origin only. */
  downloadAuth?: { username: string; password: string };
  /** The fleet's HTTP origin (agent config fleet.httpUrl): the one place credentials may go (artifact-access.ts). */
  fleetHttpUrl?: string;
}

export class UpdateManager {
  private queue: Promise<void> = Promise.resolve();
  private readonly options: UpdateOptions;
  private readonly guard: CrashGuard;
  private readonly shutdown = new AbortController();
  private readonly shadow: ShadowUpdates;
  private readonly artifacts: ArtifactFetcher;
  private readonly reports: UpdateReporter;

  constructor(private readonly deps: UpdateManagerDeps) {
    ensurePrivateDir(deps.modelsDir);
    this.options = updateOptionsSchema.parse(deps.options ?? {});
    this.guard = new CrashGuard(deps.state, this.options, deps.log);
    this.reports = updateReporter(deps.report, deps.log);
    this.artifacts = new ArtifactFetcher({
      modelsDir: deps.modelsDir,
      options: this.options,
      ...(deps.chunks ? { chunks: deps.chunks } : {}),
      ...(deps.downloadAuth ? { downloadAuth: deps.downloadAuth } : {}),
      ...(deps.fleetHttpUrl !== undefined ? { fleetHttpUrl: deps.fleetHttpUrl } : {}),
      signal: this.shutdown.signal,
      log: deps.log,
    });
    // The shadow slots get the artifact port and a reporter of their own: they never call back here.
    this.shadow = new ShadowUpdates({
      slots: deps.shadows ?? new ActiveModels(),
      serving: deps.models,
      state: deps.state,
      runner: deps.runner,
      log: deps.log,
      artifacts: this.artifacts,
      reports: updateReporter(deps.report, deps.log, 'shadow'),
    });
  }

  /**
   * Loads the models that were active before a restart, re-checking signature and hash. A model
   * still on probation that has used up its starts is reverted to the previous version instead.
   */
  async restore(): Promise<void> {
    for (const row of this.deps.state.active()) {
      const decision = this.guard.onStart(row);
      if (decision.action === 'revert') {
        await this.revertCrashLoop(row, decision.starts);
        continue;
      }
      try {
        await this.load(row);
        this.guard.watch(row.name, row.version);
        this.deps.log.info({ model: row.name, version: row.version }, 'restored active model');
      } catch (err) {
        this.deps.log.error(
          { model: row.name, version: row.version, err: (err as Error).message },
          'could not restore model; it stays inactive until the fleet re-sends it',
        );
        this.deps.state.deactivate(row.name);
      }
    }
  }

  /** Serialised: one desired state is applied fully before the next starts. */
  apply(desired: DesiredState): Promise<void> {
    if (this.shutdown.signal.aborted) return Promise.resolve();
    this.queue = this.queue
      .then(() => this.applyNow(desired))
      .catch((err: Error) => {
        this.deps.log.error({ err: err.message }, 'applying desired state failed');
      });
    return this.queue;
  }

  /** Stops a download in flight (its progress is kept for the next start) and the probation timers. */
  async close(): Promise<void> {
    this.shutdown.abort(new Error('the agent is shutting down'));
    this.guard.close();
    await this.queue;
  }

  private async applyNow(desired: DesiredState): Promise<void> {
    // The keyset first: manifests re-signed by a newly rotated key arrive in the same message.
    this.deps.trust.accept(desired.keys);
    const wanted = new Set<string>();
    this.shadow.begin();
    for (const entry of desired.models) {
      if (this.shutdown.signal.aborted) return;
      const name = await this.applyModel(entry);
      if (name && entry.role !== 'shadow') wanted.add(name);
    }
    if (!this.shutdown.signal.aborted) this.shadow.finish();
    for (const row of this.deps.state.active()) {
      if (wanted.has(row.name) || this.shutdown.signal.aborted) continue;
      this.guard.unwatch(row.name);
      this.deps.models.remove(row.name);
      this.deps.state.deactivate(row.name);
      this.reports.report(row, 'removed', undefined, 'no longer assigned to this device');
      this.deps.log.info({ model: row.name, version: row.version }, 'model removed: no longer assigned');
    }
  }

  /** Returns the model name the entry is about when known, so it is not removed as unassigned. */
  private async applyModel(entry: DesiredModel): Promise<string | undefined> {
    const { trust, arch, hardware } = this.deps;
    const verdict = verifyManifest(entry.manifest, {
      trustedKeys: trust.manifestKeys(),
      arch,
      ...(hardware ? { hardware } : {}),
    });
    if (!verdict.ok) {
      const claimed = peekUnverified(entry.manifest.payload);
      this.reports.reject(
        claimed,
        verdict.code,
        verdict.code === 'unknown-key' ? `${verdict.reason}; ${trust.explain()}` : verdict.reason,
      );
      return claimed?.name;
    }
    const manifest = verdict.value;
    if (entry.role === 'shadow') {
      await this.shadow.apply(entry, manifest);
      return manifest.name;
    }
    const current = this.deps.models.get(manifest.name)?.manifest;
    if (current && current.version === manifest.version && current.artifact.sha256 === manifest.artifact.sha256) {
      // Re-signed (expiry, key rotation): keep the fresh envelope for restarts; the model stays loaded.
      if (this.deps.state.refreshEnvelope(manifest.name, manifest.version, manifest.artifact.sha256, entry.manifest)) {
        this.deps.log.info(
          { model: manifest.name, version: manifest.version, expires: manifest.expires },
          'stored the re-signed manifest of the running version',
        );
      }
      return manifest.name;
    }

    // A version that failed here before is answered from memory: no download, no second chance.
    const failed = this.deps.state.failedVersion(manifest.name, manifest.version);
    if (failed) {
      this.reports.report(
        manifest,
        'failed',
        failed.code,
        `${failed.reason}; this version is not tried again on this device: release a fixed model as a new version`,
      );
      return manifest.name;
    }
    const counter = checkVersionCounter(manifest, this.deps.state.lastAccepted(manifest.name));
    if (!counter.ok) {
      this.reports.reject(manifest, counter.code, counter.reason);
      return manifest.name;
    }

    const path = this.artifacts.pathOf(manifest);
    if (!(await this.artifacts.fetch(entry, manifest, path, this.reports))) return manifest.name;
    const bytes = await readFile(path);
    if (sha256Hex(bytes) !== manifest.artifact.sha256) {
      rmSync(path, { force: true });
      this.reports.reject(
        manifest,
        'hash-mismatch',
        'artifact on disk changed after download; it is downloaded again with the next desired state',
      );
      return manifest.name;
    }
    this.reports.report(manifest, 'verified');

    let runner: ModelRunner;
    try {
      runner = await ModelRunner.load(manifest, bytes, this.deps.runner);
    } catch (err) {
      this.reports.report(manifest, 'failed', 'load-failed', `model would not load: ${(err as Error).message}`);
      return manifest.name;
    }
    const health = await runHealthCheck(runner, manifest.healthCheck);
    if (!health.ok) {
      await runner.release();
      // Not accepted (the counter stays), but never again: see the module comment.
      this.deps.state.markFailed(manifest.name, {
        version: manifest.version,
        sha256: manifest.artifact.sha256,
        code: health.code,
        reason: health.reason,
      });
      rmSync(path, { force: true });
      this.reports.report(
        manifest,
        'failed',
        health.code,
        `health check failed, the previous model keeps serving: ${health.reason}`,
      );
      this.deps.log.warn(
        { model: manifest.name, version: manifest.version, reason: health.reason },
        'new model failed its health check; not activated',
      );
      return manifest.name;
    }
    this.deps.state.activate({
      name: manifest.name,
      version: manifest.version,
      sha256: manifest.artifact.sha256,
      path,
      envelope: entry.manifest,
    });
    const previous = this.deps.models.swap(runner);
    this.guard.watch(manifest.name, manifest.version);
    this.reports.report(manifest, 'active');
    this.deps.log.info(
      { model: manifest.name, version: manifest.version, previous: previous?.manifest.version, health: health.value },
      'model activated',
    );
    this.pruneArtifacts(manifest.name, path, previous ? this.artifacts.pathOf(previous.manifest) : undefined);
    return manifest.name;
  }

  /** Startup after too many short-lived starts: back to the previous version (crash-guard.ts). */
  private async revertCrashLoop(row: ActiveModelRow, starts: number): Promise<void> {
    const previous = this.deps.state.probation(row.name)?.previous;
    const reason =
      `v${row.version} did not stay up ${this.options.healthyAfterMs / 1000} s in ${starts} consecutive starts (crash loop); ` +
      (previous
        ? `reverted to v${previous.version}`
        : 'there is no previous version, so the model is inactive until the fleet sends a fix');
    this.deps.state.revert(row.name, { code: 'crash-loop', reason });
    this.deps.log.warn(
      { model: row.name, version: row.version, starts, previous: previous?.version },
      'crash loop after a model update: reverted',
    );
    // Reported, since reports outlive restarts: an "active" report of the crashing version that
    // had not left yet would otherwise be the fleet's last word on what this device runs.
    this.reports.report(row, 'failed', 'crash-loop', reason);
    if (previous && previous.path !== row.path) rmSync(row.path, { force: true });
    if (!previous) return;
    try {
      await this.load(previous);
      this.reports.report(previous, 'active', undefined, `serving again after v${row.version} crash-looped`);
      this.deps.log.info(
        { model: previous.name, version: previous.version },
        'restored the previous model after a crash loop',
      );
    } catch (err) {
      this.deps.log.error(
        { model: previous.name, version: previous.version, err: (err as Error).message },
        'could not restore the previous model either; the model stays inactive until the fleet sends a fix',
      );
      this.deps.state.deactivate(previous.name);
    }
  }

  /** Loads a persisted row; judged as of its activation, so an expired manifest still serves after a reboot. */
  private async load(row: ActiveModelRow): Promise<void> {
    // Only keys of the held keyset count: a model signed by a key retired since is not loaded.
    const verdict = verifyManifest(row.envelope, {
      trustedKeys: this.deps.trust.manifestKeys(),
      now: new Date(row.activatedAt),
    });
    if (!verdict.ok)
      throw new Error(
        verdict.code === 'unknown-key' ? `${verdict.reason}; ${this.deps.trust.explain()}` : verdict.reason,
      );
    const bytes = await readFile(row.path);
    if (sha256Hex(bytes) !== verdict.value.artifact.sha256)
      throw new Error(`artifact ${row.path} no longer matches its signed sha256`);
    this.deps.models.swap(await ModelRunner.load(verdict.value, bytes, this.deps.runner));
  }

  /** Keep the active and the previous artifact (for a revert); delete older ones and stale partial downloads. */
  private pruneArtifacts(name: string, keep: string, previous: string | undefined): void {
    const shadows = this.shadow.paths();
    for (const file of readdirSync(this.deps.modelsDir)) {
      const full = join(this.deps.modelsDir, file);
      if (file.startsWith(`${name}-v`) && full !== keep && full !== previous && !shadows.has(full))
        rmSync(full, { force: true });
    }
  }
}

/** Name and version a rejected manifest claims, for the report only; never trusted otherwise. */
function peekUnverified(payload: string): { name: string; version: number } | undefined {
  try {
    const m = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as { name?: unknown; version?: unknown };
    if (typeof m.name === 'string' && isValidId(m.name) && Number.isInteger(m.version) && (m.version as number) >= 1) {
      return { name: m.name, version: m.version as number };
    }
  } catch {
    // fall through: nothing reportable
  }
  return undefined;
}
