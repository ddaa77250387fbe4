/**
 * @module api/json-body
 * Reading a JSON request body the same strict way on every route: the content-type must be
 * JSON, the text must parse, and the value must be an object. `null`, arrays, strings and numbers
 * are refused here with a 400, so no route mistakes them for "no options given".
 * The size was already capped by api/body-limits.ts.
 */
import type { Context } from 'hono';
import { RegistryError } from '../registry/model-registry.js';

export interface JsonBodyOptions {
  /** A valid body, quoted in every refusal so the caller sees what to send. */
  example: string;
  /** An empty body (no bytes, or only whitespace) stands for `{}`. */
  optional?: boolean;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function isJsonType(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

export async function readJsonObject(c: Context, opts: JsonBodyOptions): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (opts.optional) return {};
    throw new RegistryError(400, `the body is empty; send JSON, e.g. ${opts.example}`);
  }
  const type = c.req.header('content-type');
  if (type === undefined || !isJsonType(type)) {
    throw new RegistryError(
      415,
      `content-type must be application/json (got ${type === undefined ? 'none' : `"${type}"`}); send JSON, e.g. ${opts.example}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RegistryError(400, `the body is not valid JSON (${(err as Error).message}); send e.g. ${opts.example}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RegistryError(
      400,
      `the body must be a JSON object, got ${describeValue(value)}; send e.g. ${opts.example}`,
    );
  }
  return value as Record<string, unknown>;
}
