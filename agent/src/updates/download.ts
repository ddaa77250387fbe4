/**
 * @module updates/download
 * Fetches an artifact over HTTP into a temporary file, verifying length and hash while it
 * streams: more bytes than the manifest signed abort the download at once.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { ArtifactVerifier, type Manifest } from '@edgeloop/protocol';

export class DownloadError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export async function downloadArtifact(url: string, artifact: Manifest['artifact'], destination: string, timeoutMs = 120_000): Promise<void> {
  const partial = `${destination}.partial`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new DownloadError('download-failed', `cannot fetch ${url}: ${(err as Error).message}`);
  }
  if (!response.ok || !response.body) {
    throw new DownloadError('download-failed', `fetching ${url} answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > artifact.size) {
    await response.body.cancel();
    throw new DownloadError('too-long', `server offers ${declared} bytes, the manifest signed ${artifact.size}`);
  }

  const verifier = new ArtifactVerifier(artifact);
  const out = createWriteStream(partial);
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      const step = verifier.update(chunk);
      if (!step.ok) throw new DownloadError(step.code, step.reason);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const done = verifier.finish();
    if (!done.ok) throw new DownloadError(done.code, done.reason);
    // fsync before rename: after a power cut the file is either complete or absent.
    const fh = await open(partial, 'r+');
    await fh.sync();
    await fh.close();
    await rename(partial, destination);
  } catch (err) {
    out.destroy();
    await rm(partial, { force: true });
    if (err instanceof DownloadError) throw err;
    throw new DownloadError('download-failed', `download of ${url} broke off: ${(err as Error).message}`);
  }
}
