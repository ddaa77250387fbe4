/**
 * @module api/audit-routes
 * GET /api/v1/audit?actor=&action=&target=&limit=&before= : who changed what, newest first.
 * `action` matches a verb exactly or a whole area (`device` matches `device.disable`, …);
 * page backwards with `before` = the smallest id seen.
 */
import { Hono } from 'hono';
import { describeZodError, type AuditEntrySummary } from '@edgeloop/protocol';
import { auditQuerySchema } from '@edgeloop/protocol/rest';
import type { AuditLog } from '../audit/audit-log.js';
import type { ApiEnv } from './api-env.js';

export function auditRoutes(deps: { audit: AuditLog }): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/audit', async (c) => {
    const q = auditQuerySchema.safeParse(c.req.query());
    if (!q.success) return c.json({ error: describeZodError(q.error) }, 400);
    const entries: AuditEntrySummary[] = await deps.audit.list(q.data);
    return c.json({ entries });
  });
  return app;
}
