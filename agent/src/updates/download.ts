/**
 * @module updates/download
 * The whole-file path: streams an artifact into a temporary file, verifying length and hash while
 * it streams, so more bytes than the manifest signed abort the download at once. Used when a
 * server ignores Range requests; chunked-download.ts is the resumable path. Also the fsync +
 * rename both paths finish with.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { ArtifactVerifier, type Manifest } from '@edgeloop/protocol';
import { PRIVATE_FILE_MODE } from '@edgeloop/protocol/state-dir';

export class DownloadError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Streams a whole-file response to `<destination>.partial`, then fsyncs and renames it. `onBytes`
 * runs after every piece (bandwidth cap, progress, idle timeout) and may delay the next read.
 */
export async function saveVerifiedStream(
  url: string,
  response: Response,
  artifact: Manifest['artifact'],
  destination: string,
  onBytes?: (received: number, piece: number) => Promise<void> | void,
): Promise<void> {
  const partial = `${destination}.partial`;
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > artifact.size) {
    await response.body?.cancel();
    throw new DownloadError('too-long', `server offers ${declared} bytes, the manifest signed ${artifact.size}`);
  }
  if (!response.body) throw new DownloadError('download-failed', `fetching ${url} returned no body`);

  const verifier = new ArtifactVerifier(artifact);
  const out = createWriteStream(partial, { mode: PRIVATE_FILE_MODE });
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      const step = verifier.update(chunk);
      if (!step.ok) throw new DownloadError(step.code, step.reason);
      if (!out.write(chunk)) await once(out, 'drain');
      await onBytes?.(step.value, chunk.length);
    }
    out.end();
    await once(out, 'finish');
    const done = verifier.finish();
    if (!done.ok) throw new DownloadError(done.code, done.reason);
    await commitVerified(partial, destination);
  } catch (err) {
    out.destroy();
    await response.body.cancel().catch(() => undefined);
    await rm(partial, { force: true });
    if (err instanceof DownloadError) throw err;
    throw new DownloadError(
      'download-failed',
      `download of ${url} broke off: ${(err as Error).message}; it starts again when the desired state is delivered again`,
    );
  }
}

/**
 * fsync before rename, and the directory after it: after a power cut the artifact is either
 * complete under its final name or not there at all.
 */
export async function commitVerified(partial: string, destination: string): Promise<void> {
  const fh = await open(partial, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(partial, destination);
  const dir = await open(dirname(destination), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
