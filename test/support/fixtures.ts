/**
 * @module support/fixtures
 * Shared helpers for cross-package tests: temp dirs, waiting on conditions, test images and
 * the sample model with its metadata.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { SAMPLE_METADATA_PATH, SAMPLE_MODELS } from '@edgeloop/models';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `edgeloop-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
  );
}

/** A JPEG of a flat colour: brightness drives the synthetic reference model's output. */
export function jpeg(r: number, g: number, b: number, width = 160, height = 120): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .jpeg()
    .toBuffer();
}

export const sample = {
  v1: readFileSync(SAMPLE_MODELS.v1),
  v2: readFileSync(SAMPLE_MODELS.v2),
  v1Path: SAMPLE_MODELS.v1,
  v2Path: SAMPLE_MODELS.v2,
  metadataPath: SAMPLE_METADATA_PATH,
  metadata: JSON.parse(readFileSync(SAMPLE_METADATA_PATH, 'utf8')) as unknown,
};

/** The JSON tensor body for the reference model: one grey image at `level` (0..1). */
export function greyTensor(level: number, requestId?: string) {
  return {
    inputs: { image: { shape: [1, 3, 48, 64], data: new Array<number>(3 * 48 * 64).fill(level) } },
    ...(requestId ? { requestId } : {}),
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
