/**
 * @module updates/update-manager
 * Applies the desired state the fleet publishes. Per model:
 *
 *   desired ─verify manifest─▶ downloading ─size+sha256─▶ verified ─load+warm-up─▶ active
 *      │ (key, signature, expiry, target, version counter)       │                  │
 *      └──────────────▶ rejected                        failed ◀─┘    (old model keeps serving)
 *
 * Only a fully verified, loaded and warmed-up model is swapped in; until then the previous one
 * serves. Each state is reported to the fleet server.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
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
  type Manifest,
  type UpdateReport,
  type UpdateState,
} from '@edgeloop/protocol';
import type { ActiveModels } from '../runtime/active-models.js';
import { ModelRunner, type RunnerOptions } from '../runtime/model-runner.js';
import type { ModelState } from '../store/model-state.js';
import { downloadArtifact, DownloadError } from './download.js';

export interface UpdateManagerDeps {
  modelsDir: string;
  trustedKeys: ReadonlyMap<string, Uint8Array>;
  arch: string;
  hardware?: string;
  runner: RunnerOptions;
  models: ActiveModels;
  state: ModelState;
  report: (report: Omit<UpdateReport, 'v' | 'ts' | 'reportSeq'>) => void;
  log: Logger;
}

export class UpdateManager {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: UpdateManagerDeps) {
    mkdirSync(deps.modelsDir, { recursive: true });
  }

  /** Loads the models that were active before a restart, re-checking signature and hash. */
  async restore(): Promise<void> {
    for (const row of this.deps.state.active()) {
      // Judge the manifest as of its activation: it may have expired since, and that must not
      // stop a device from serving after a reboot (only new manifests must be fresh).
      const verdict = verifyManifest(row.envelope, { trustedKeys: this.deps.trustedKeys, now: new Date(row.activatedAt) });
      try {
        if (!verdict.ok) throw new Error(verdict.reason);
        const bytes = await readFile(row.path);
        if (sha256Hex(bytes) !== verdict.value.artifact.sha256) throw new Error(`artifact ${row.path} no longer matches its signed sha256`);
        this.deps.models.swap(await ModelRunner.load(verdict.value, bytes, this.deps.runner));
        this.deps.log.info({ model: row.name, version: row.version }, 'restored active model');
      } catch (err) {
        this.deps.log.error({ model: row.name, version: row.version, err: (err as Error).message }, 'could not restore model; it stays inactive until the fleet re-sends it');
        this.deps.state.deactivate(row.name);
      }
    }
  }

  /** Serialised: one desired state is applied fully before the next starts. */
  apply(desired: DesiredState): Promise<void> {
    this.queue = this.queue.then(() => this.applyNow(desired)).catch((err: Error) => {
      this.deps.log.error({ err: err.message }, 'applying desired state failed');
    });
    return this.queue;
  }

  private async applyNow(desired: DesiredState): Promise<void> {
    const wanted = new Set<string>();
    for (const entry of desired.models) {
      const name = await this.applyModel(entry);
      if (name) wanted.add(name);
    }
    for (const row of this.deps.state.active()) {
      if (wanted.has(row.name)) continue;
      this.deps.models.remove(row.name);
      this.deps.state.deactivate(row.name);
      this.deps.report({ model: row.name, version: row.version, state: 'removed', reason: 'no longer assigned to this device' });
      this.deps.log.info({ model: row.name, version: row.version }, 'model removed: no longer assigned');
    }
  }

  /** Returns the model name the entry is about when known, so it is not removed as unassigned. */
  private async applyModel(entry: DesiredModel): Promise<string | undefined> {
    const { trustedKeys, arch, hardware } = this.deps;
    const verdict = verifyManifest(entry.manifest, { trustedKeys, arch, ...(hardware ? { hardware } : {}) });
    if (!verdict.ok) {
      const claimed = peekUnverified(entry.manifest.payload);
      this.reject(claimed, verdict.code, verdict.reason);
      return claimed?.name;
    }
    const manifest = verdict.value;
    const current = this.deps.models.get(manifest.name)?.manifest;
    if (current && current.version === manifest.version && current.artifact.sha256 === manifest.artifact.sha256) return manifest.name;

    const counter = checkVersionCounter(manifest, this.deps.state.lastAccepted(manifest.name));
    if (!counter.ok) {
      this.reject(manifest, counter.code, counter.reason);
      return manifest.name;
    }

    const path = join(this.deps.modelsDir, `${manifest.name}-v${manifest.version}-${manifest.artifact.sha256.slice(0, 16)}.onnx`);
    this.report(manifest, 'downloading');
    try {
      if (!existsSync(path)) await downloadArtifact(entry.artifactUrl, manifest.artifact, path);
    } catch (err) {
      const code = err instanceof DownloadError ? err.code : 'download-failed';
      this.reject(manifest, code, (err as Error).message);
      return manifest.name;
    }
    const bytes = await readFile(path);
    if (sha256Hex(bytes) !== manifest.artifact.sha256) {
      rmSync(path, { force: true });
      this.reject(manifest, 'hash-mismatch', 'artifact on disk changed after download');
      return manifest.name;
    }
    this.report(manifest, 'verified');

    let runner: ModelRunner;
    try {
      runner = await ModelRunner.load(manifest, bytes, this.deps.runner);
    } catch (err) {
      this.report(manifest, 'failed', 'load-failed', `model would not load: ${(err as Error).message}`);
      return manifest.name;
    }
    this.deps.state.activate({ name: manifest.name, version: manifest.version, sha256: manifest.artifact.sha256, path, envelope: entry.manifest });
    const previous = this.deps.models.swap(runner);
    this.report(manifest, 'active');
    this.deps.log.info({ model: manifest.name, version: manifest.version, previous: previous?.manifest.version }, 'model activated');
    this.pruneArtifacts(manifest.name, path, previous ? this.pathOf(previous.manifest) : undefined);
    return manifest.name;
  }

  private pathOf(m: Manifest): string {
    return join(this.deps.modelsDir, `${m.name}-v${m.version}-${m.artifact.sha256.slice(0, 16)}.onnx`);
  }

  /** Keep the active and the previous artifact (for a revert); delete older ones. */
  private pruneArtifacts(name: string, keep: string, previous: string | undefined): void {
    for (const file of readdirSync(this.deps.modelsDir)) {
      const full = join(this.deps.modelsDir, file);
      if (file.startsWith(`${name}-v`) && full !== keep && full !== previous) rmSync(full, { force: true });
    }
  }

  private report(m: Pick<Manifest, 'name' | 'version'>, state: UpdateState, code?: string, reason?: string): void {
    this.deps.report({ model: m.name, version: m.version, state, ...(code ? { code } : {}), ...(reason ? { reason } : {}) });
  }

  private reject(m: Pick<Manifest, 'name' | 'version'> | undefined, code: string, reason: string): void {
    this.deps.log.warn({ model: m?.name, version: m?.version, code, reason }, 'model update rejected');
    if (m) this.report(m, 'rejected', code, reason);
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
