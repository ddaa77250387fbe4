/**
 * @module runtime/shadow-updates
 * Desired-state entries with role "shadow": a candidate version the device runs beside the one it
 * serves. It is verified like any manifest (the update manager has already checked envelope, key,
 * signature, expiry and target), must be newer than the version the anti-rollback counter holds,
 * is downloaded and health-checked like a serving version, and is then loaded into the model's
 * shadow slot. It never raises the counter, never replaces the serving model and never answers a
 * request. Dropping it from the desired state unloads it (and deletes its artifact unless that is
 * now the serving one); the same version arriving with role serve is a normal activation that
 * finds the artifact already on disk.
 *
 * Nothing is persisted: after a restart the retained desired state brings the shadow back, and its
 * artifact is still on disk.
 *
 * The update manager drives this (begin, apply per entry, finish); artifacts come through the
 * shared artifact port and reports go out through a reporter flagged role "shadow", so nothing
 * here calls back into the update manager.
 */
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { checkVersionCounter, sha256Hex, type DesiredModel, type Manifest } from '@edgeloop/protocol';
import type { ModelState } from '../store/model-state.js';
import type { ArtifactPort } from '../updates/artifact-fetcher.js';
import { runHealthCheck } from '../updates/health-check.js';
import type { UpdateReporter } from '../updates/update-reporter.js';
import type { ActiveModels } from './active-models.js';
import { ModelRunner, type RunnerOptions } from './model-runner.js';
import { shadowIncompatibility } from './shadow-runner.js';

export interface ShadowUpdateContext {
  /** The shadow slots (one per model name). */
  slots: ActiveModels;
  /** The serving models. */
  serving: ActiveModels;
  state: ModelState;
  runner: RunnerOptions;
  log: Logger;
  /** Where artifacts live and how a missing one is fetched (the same as for serving versions). */
  artifacts: ArtifactPort;
  /** Reports about the shadow slot (role "shadow"). */
  reports: UpdateReporter;
}

export class ShadowUpdates {
  /** name → version the current desired state wants in shadow. */
  private wanted = new Map<string, number>();

  constructor(private readonly ctx: ShadowUpdateContext) {}

  /** Call before applying a desired state. */
  begin(): void {
    this.wanted = new Map();
  }

  /** Files of loaded shadows: artifact pruning must keep them. */
  paths(): Set<string> {
    return new Set(this.ctx.slots.list().map((r) => this.ctx.artifacts.pathOf(r.manifest)));
  }

  async apply(entry: DesiredModel, manifest: Manifest): Promise<void> {
    const { ctx } = this;
    const { reports } = ctx;
    this.wanted.set(manifest.name, manifest.version);
    const loaded = ctx.slots.get(manifest.name)?.manifest;
    if (loaded && loaded.version === manifest.version && loaded.artifact.sha256 === manifest.artifact.sha256) return;

    const failed = ctx.state.failedVersion(manifest.name, manifest.version);
    if (failed)
      return reports.report(
        manifest,
        'failed',
        failed.code,
        `${failed.reason}; this version is not tried again on this device`,
      );
    // Same anti-rollback rule as for serving versions, except that a shadow must be strictly newer
    // (the accepted version itself is what serves); it never raises the counter.
    const counter = checkVersionCounter(manifest, ctx.state.lastAccepted(manifest.name));
    if (!counter.ok)
      return reports.reject(
        manifest,
        counter.code,
        `a shadow must be newer than the version this device accepted: ${counter.reason}`,
      );
    if (counter.value === 'same')
      return reports.reject(
        manifest,
        'rollback',
        `a shadow must be newer than the version this device accepted; v${manifest.version} is that version`,
      );
    const serving = ctx.serving.get(manifest.name)?.manifest;
    const incompatible = serving && shadowIncompatibility(serving, manifest);
    if (incompatible) return reports.reject(manifest, 'shadow-incompatible', incompatible);

    const path = ctx.artifacts.pathOf(manifest);
    if (!(await ctx.artifacts.fetch(entry, manifest, path, reports))) return;
    const bytes = await readFile(path);
    if (sha256Hex(bytes) !== manifest.artifact.sha256) {
      rmSync(path, { force: true });
      return reports.reject(
        manifest,
        'hash-mismatch',
        'artifact on disk changed after download; it is downloaded again with the next desired state',
      );
    }
    reports.report(manifest, 'verified');
    let runner: ModelRunner;
    try {
      runner = await ModelRunner.load(manifest, bytes, ctx.runner);
    } catch (err) {
      return reports.report(
        manifest,
        'failed',
        'load-failed',
        `shadow model would not load: ${(err as Error).message}`,
      );
    }
    const health = await runHealthCheck(runner, manifest.healthCheck);
    if (!health.ok) {
      await runner.release();
      // The same artifact would fail again as a serving version: refuse it for good, as there.
      ctx.state.markFailed(manifest.name, {
        version: manifest.version,
        sha256: manifest.artifact.sha256,
        code: health.code,
        reason: health.reason,
      });
      rmSync(path, { force: true });
      return reports.report(manifest, 'failed', health.code, `shadow health check failed: ${health.reason}`);
    }
    const previous = ctx.slots.swap(runner);
    if (previous) this.deleteArtifact(previous.manifest);
    reports.report(
      manifest,
      'active',
      undefined,
      `running in shadow beside ${serving ? `v${serving.version}` : 'no serving version'}; it answers no requests`,
    );
    ctx.log.info({ model: manifest.name, version: manifest.version, serving: serving?.version }, 'shadow model loaded');
  }

  /** After a desired state: unload shadows it no longer names, and any now served or outdated. */
  finish(): void {
    const { ctx } = this;
    for (const runner of ctx.slots.list()) {
      const { name, version } = runner.manifest;
      const servingVersion = ctx.serving.get(name)?.manifest.version ?? 0;
      if (this.wanted.get(name) === version && version > servingVersion) continue;
      ctx.slots.remove(name);
      this.deleteArtifact(runner.manifest);
      const promoted = servingVersion === version;
      // A promoted shadow's "active" as the serving version says it all; no separate removal report.
      if (!promoted)
        ctx.reports.report(runner.manifest, 'removed', undefined, 'shadow no longer assigned to this device');
      ctx.log.info(
        { model: name, version, promoted },
        promoted ? 'shadow promoted to serving' : 'shadow model unloaded',
      );
    }
  }

  /** Deletes a shadow's artifact unless the serving version (or the one kept for a revert) uses it. */
  private deleteArtifact(m: Manifest): void {
    const path = this.ctx.artifacts.pathOf(m);
    const keep = new Set<string>();
    for (const row of this.ctx.state.active()) {
      keep.add(row.path);
      const prev = this.ctx.state.probation(row.name)?.previous;
      if (prev) keep.add(prev.path);
    }
    if (!keep.has(path)) rmSync(path, { force: true });
  }
}
