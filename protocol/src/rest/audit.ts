/**
 * @module rest/audit
 * GET /api/v1/audit: who changed what, newest first. `action` matches a verb exactly or a whole
 * area (`device` matches `device.disable`); page backwards with `before` = the smallest id seen.
 */
import { z } from 'zod';
import { epochMsSchema, integerText } from './shared.js';

export const auditEntrySchema = z
  .object({
    id: z.number().int(),
    ts: epochMsSchema,
    /** Admin token name, `device:<id>`, or `system`. */
    actor: z.string().describe('admin token name, device:<id>, or system'),
    action: z.string(),
    target: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntrySummary = z.infer<typeof auditEntrySchema>;

export const auditQuerySchema = z.object({
  actor: z.string().min(1).max(128).optional(),
  action: z.string().min(1).max(128).optional().describe('e.g. device.disable, or device for every device.* entry'),
  target: z.string().min(1).max(256).optional(),
  limit: integerText(1, 1000).optional(),
  before: integerText(1).optional().describe('page backwards: the smallest id seen'),
});
export type AuditQuery = z.output<typeof auditQuerySchema>;

export const auditResponseSchema = z.object({ entries: z.array(auditEntrySchema) });
