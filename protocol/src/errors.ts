/**
 * @module errors
 * Validation results as values, not exceptions: every boundary (MQTT, HTTP, files) turns bad
 * input into a reason it can log or send back, and keeps running.
 */
import type { z } from 'zod';

export type Result<T, C extends string = string> = { ok: true; value: T } | { ok: false; code: C; reason: string };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<C extends string>(code: C, reason: string): { ok: false; code: C; reason: string } {
  return { ok: false, code, reason };
}

/** One line per issue, with the path to the offending field: "records.3.seq: expected number". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .concat(error.issues.length > 5 ? [`… and ${error.issues.length - 5} more`] : [])
    .join('; ');
}
