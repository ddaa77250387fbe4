/**
 * @module api/test-support
 * For the API tests: a fleet server (embedded broker) and agents in this process, with the
 * sample model registered and deployable, everything on free ports in a temp directory. The
 * agent tests import the fleet server only here, never from agent code.
 */
import sharp from 'sharp';

export { startTestFleet, until, type TestFleet } from '@edgeloop/test/support/in-process-fleet';

/** A JPEG of the sample model's input size (or any) with a flat colour. */
export function flatJpeg(level: number, width = 160, height = 120): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: level, g: level, b: level } } })
    .jpeg()
    .toBuffer();
}

/** The JSON tensor input for the sample model: one grey image at `level` (0..1). */
export function greyInputs(level: number): { image: { shape: number[]; data: number[] } } {
  return { image: { shape: [1, 3, 48, 64], data: new Array<number>(3 * 48 * 64).fill(level) } };
}

/** The value of one sample in Prometheus text output, e.g. metricValue(text, 'edgeloop_buffer_records'). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}
