/**
 * @module api/audit-routes
 * GET /api/v1/audit?actor=&action=&target=&limit=&before= : who changed what, newest first.
 * `action` matches a verb exactly or a whole area (`device` matches `device.disable`, …);
 * page backwards with `before` = the smallest id seen.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { describeZodError, type AuditEntrySummary } from '@edgeloop/protocol';
import type { AuditLog } from '../audit/audit-log.js';
import type { ApiEnv } from './api-env.js';

const querySchema = z.object({
  actor: z.string().min(1).max(128).optional(),
  action: z.string().min(1).max(128).optional(),
  target: z.string().min(1).max(256).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  before: z.coerce.number().int().min(1).optional(),
});

export function auditRoutes(deps: { audit: AuditLog }): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/audit', async (c) => {
    const q = querySchema.safeParse(c.req.query());
    if (!q.success) return c.json({ error: describeZodError(q.error) }, 400);
    const entries: AuditEntrySummary[] = await deps.audit.list(q.data);
    return c.json({ entries });
  });
  return app;
}
