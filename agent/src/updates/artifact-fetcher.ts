/**
 * @module updates/artifact-fetcher
 * Where verified model artifacts live on the device and how a missing one is fetched: over HTTP
 * or the fleet link (artifact-access.ts picks the transport and whether credentials may go),
 * resumable and verified chunk by chunk (chunked-download.ts), with progress reported about once
 * a second. Serving and shadow updates both fetch through this one port, each with its own
 * reporter, so neither needs the other to download.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DesiredModel, Manifest } from '@edgeloop/protocol';
import { artifactAccess } from './artifact-access.js';
import { downloadArtifactChunked, type DownloadProgressEvent } from './chunked-download.js';
import { DownloadError } from './download.js';
import { chooseSource, type MqttChunkClient } from './mqtt-chunk-source.js';
import type { UpdateOptions } from './update-options.js';
import type { UpdateReporter } from './update-reporter.js';

/** What shadow and serving updates need to get an artifact onto the disk. */
export interface ArtifactPort {
  /** Where the artifact of this manifest lives once verified. */
  pathOf(m: Manifest): string;
  /** Downloads (resumable, verified) unless on disk; false when rejected (already reported) or stopped by shutdown. */
  fetch(entry: DesiredModel, manifest: Manifest, path: string, reports: UpdateReporter): Promise<boolean>;
}

export interface ArtifactFetcherDeps {
  modelsDir: string;
  options: UpdateOptions;
  /** Artifact transfer over the fleet link (updates.transport mqtt/auto); absent = HTTP only. */
  chunks?: MqttChunkClient;
  /** The device's fleet credentials, sent with HTTP artifact downloads from the fleet origin only. */
  downloadAuth?: { username: string; password: string };
  /** The fleet's HTTP origin (agent config fleet.httpUrl): the one place credentials may go. */
  fleetHttpUrl?: string;
  /** Aborted at shutdown: a download in flight stops, its progress kept for the next start. */
  signal: AbortSignal;
  log: Logger;
}

/** Progress reports while downloading: often enough to watch, rarely enough for a metered link. */
const PROGRESS_REPORT_MS = 1000;

export class ArtifactFetcher implements ArtifactPort {
  private warnedNoFleetOrigin = false;

  constructor(private readonly deps: ArtifactFetcherDeps) {}

  pathOf(m: Manifest): string {
    return join(this.deps.modelsDir, `${m.name}-v${m.version}-${m.artifact.sha256.slice(0, 16)}.onnx`);
  }

  async fetch(entry: DesiredModel, manifest: Manifest, path: string, reports: UpdateReporter): Promise<boolean> {
    if (existsSync(path)) {
      reports.report(manifest, 'downloading');
      return true;
    }
    let lastReport = 0;
    const onProgress = (p: DownloadProgressEvent) => {
      const now = Date.now();
      if (lastReport !== 0 && (now - lastReport < PROGRESS_REPORT_MS || p.received >= p.total)) return;
      lastReport = now;
      reports.report(manifest, 'downloading', undefined, describeProgress(p), {
        bytesReceived: p.received,
        bytesTotal: p.total,
      });
    };
    const { deps } = this;
    const log = deps.log.child({ model: manifest.name, version: manifest.version });
    const access = artifactAccess(
      entry.artifactUrl,
      deps.fleetHttpUrl,
      deps.downloadAuth,
      entry.transfer ?? deps.options.transport,
      deps.chunks !== undefined,
    );
    if (!access.ok) {
      reports.reject(manifest, access.code, access.reason);
      return false;
    }
    if (deps.downloadAuth && deps.fleetHttpUrl === undefined && !this.warnedNoFleetOrigin) {
      this.warnedNoFleetOrigin = true;
      log.warn(
        "fleet.httpUrl is not set: artifacts are fetched over the fleet link (MQTT) and the device credentials go to no HTTP server; add fleet.httpUrl (the fleet's HTTP address, as edgeloop-agent enroll writes it) to download over HTTP",
      );
    }
    try {
      const source = chooseSource(access.transport, entry.artifactUrl, deps.chunks, log);
      const outcome = await downloadArtifactChunked(entry.artifactUrl, manifest.artifact, path, {
        ...deps.options,
        source,
        signal: deps.signal,
        onProgress,
        log,
        ...(access.auth ? { auth: access.auth } : {}),
      });
      log.info(outcome, 'artifact downloaded and verified');
      return true;
    } catch (err) {
      if (deps.signal.aborted) {
        log.info('download stopped by shutdown; it resumes from the last verified chunk after the next start');
        return false;
      }
      reports.reject(manifest, err instanceof DownloadError ? err.code : 'download-failed', (err as Error).message);
      return false;
    }
  }
}

function describeProgress(p: DownloadProgressEvent): string {
  const kib = (n: number) => `${Math.round(n / 1024)} KiB`;
  const percent = Math.floor((100 * p.received) / p.total);
  return `received ${kib(p.received)} of ${kib(p.total)} (${percent}%)${p.resumedFrom > 0 ? `, resumed at ${kib(p.resumedFrom)}` : ''}`;
}
