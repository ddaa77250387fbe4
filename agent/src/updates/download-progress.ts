/**
 * @module updates/download-progress
 * What survives a kill -9 or a power cut in the middle of a download: the `.partial` file and a
 * sidecar `<file>.partial.json` recording how many of its bytes were verified.
 *
 * Order matters: chunk data is fsynced before the sidecar that vouches for it, and the sidecar is
 * replaced atomically (temp file, fsync, rename), so it never claims bytes that are not on disk.
 * On resume the claimed prefix is re-hashed against the signed chunk hashes when the manifest has
 * them, so a torn write or a tampered file costs a re-fetch, never a bad model; without chunk
 * hashes the final whole-file sha256 is the check.
 */
import { open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { verifyChunk, type Manifest } from '@edgeloop/protocol';

interface ProgressRecord {
  v: 1;
  sha256: string;
  size: number;
  verifiedBytes: number;
}

export class DownloadProgress {
  readonly partialPath: string;
  readonly sidecarPath: string;

  constructor(
    destination: string,
    private readonly artifact: Manifest['artifact'],
  ) {
    this.partialPath = `${destination}.partial`;
    this.sidecarPath = `${destination}.partial.json`;
  }

  /**
   * The byte offset to continue from. Truncates the partial file to it, so whatever was written
   * after the last verified chunk (possibly torn) is fetched again.
   */
  async resumePoint(): Promise<number> {
    const onDisk = await stat(this.partialPath).then(
      (s) => s.size,
      () => undefined,
    );
    if (onDisk === undefined) {
      await rm(this.sidecarPath, { force: true });
      return 0;
    }
    const record = await this.read();
    const vouched = record ? Math.min(record.verifiedBytes, onDisk, this.artifact.size) : undefined;
    let resumeAt: number;
    if (this.artifact.chunks) {
      // Signed chunk hashes prove a prefix on their own, even if the sidecar was lost.
      resumeAt = await this.verifiedPrefix(vouched ?? Math.min(onDisk, this.artifact.size));
    } else {
      resumeAt = vouched ?? 0;
    }
    await truncate(this.partialPath, resumeAt);
    await this.save(resumeAt);
    return resumeAt;
  }

  async save(verifiedBytes: number): Promise<void> {
    const record: ProgressRecord = { v: 1, sha256: this.artifact.sha256, size: this.artifact.size, verifiedBytes };
    const tmp = `${this.sidecarPath}.tmp`;
    await writeFile(tmp, JSON.stringify(record));
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.sidecarPath);
  }

  /** Forget everything: the next attempt starts from byte 0. */
  async discard(): Promise<void> {
    await rm(this.partialPath, { force: true });
    await rm(this.sidecarPath, { force: true });
  }

  /** The sidecar goes once the partial has been renamed to its final name. */
  async done(): Promise<void> {
    await rm(this.sidecarPath, { force: true });
  }

  private async read(): Promise<ProgressRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(this.sidecarPath, 'utf8')) as Partial<ProgressRecord>;
      const valid =
        r.v === 1 &&
        r.sha256 === this.artifact.sha256 &&
        r.size === this.artifact.size &&
        Number.isSafeInteger(r.verifiedBytes) &&
        r.verifiedBytes! >= 0;
      return valid ? (r as ProgressRecord) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Length of the longest run of whole, hash-matching chunks from the start, up to `limit` bytes. */
  private async verifiedPrefix(limit: number): Promise<number> {
    const chunkSize = this.artifact.chunkSize!;
    const fh = await open(this.partialPath, 'r');
    try {
      let verified = 0;
      for (let index = 0; verified < limit; index++) {
        const length = Math.min(chunkSize, this.artifact.size - verified);
        if (verified + length > limit) break;
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buffer, 0, length, verified);
        if (bytesRead !== length || !verifyChunk(this.artifact, index, buffer).ok) break;
        verified += length;
      }
      return verified;
    } finally {
      await fh.close();
    }
  }
}
