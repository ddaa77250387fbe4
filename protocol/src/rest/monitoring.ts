/**
 * @module rest/monitoring
 * Rules, alerts, incidents and reference windows over REST. A rule definition is the shared rule
 * (monitoring/rules.ts) plus what happens when it fires: its actions. Rule files for the CLI and
 * the server's config write the rule's fields and `actions` side by side; splitRuleInput parts them.
 */
import { z } from 'zod';
import { ruleSchema, SEVERITIES } from '../monitoring/rules.js';
import { epochMsSchema, integerText, restIdSchema } from './shared.js';

/**
 * log: a line in the server's log per alert change. webhook: a signed JSON POST per incident
 * change (opened, resolved), retried with backoff. Every change is also an internal event
 * (`monitoring.alert`, `monitoring.incident`) whatever the actions say.
 */
export const alertActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('log') }).strict(),
  z
    .object({
      type: z.literal('webhook'),
      url: z
        .string()
        .url()
        .refine((u) => /^https?:\/\//.test(u), 'use an http:// or https:// URL'),
    })
    .strict(),
]);
export type AlertAction = z.infer<typeof alertActionSchema>;

export const ruleDefinitionSchema = z
  .object({
    rule: ruleSchema,
    actions: z.array(alertActionSchema).max(8).default([]),
  })
  .strict();
export type RuleDefinition = z.infer<typeof ruleDefinitionSchema>;
export type RuleDefinitionInput = z.input<typeof ruleDefinitionSchema>;

/** `{...rule fields, actions}` (a rule file, a config entry) → `{rule, actions}`; an already split object passes. */
export function splitRuleInput(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || 'rule' in input) return input;
  const { actions, ...rule } = input as Record<string, unknown>;
  return actions === undefined ? { rule } : { rule, actions };
}

export const ALERT_STATES = ['pending', 'firing', 'resolved', 'cancelled'] as const;
export const ALERT_SOURCES = ['server', 'device'] as const;

export const alertViewSchema = z
  .object({
    id: z.string(),
    rule: z.string(),
    metric: z.string(),
    severity: z.enum(SEVERITIES),
    /** server: the rule engine on rollups; device: an agent's own detector or device rule. */
    source: z.enum(ALERT_SOURCES),
    model: z.string(),
    version: z.number().int(),
    /** `fleet`, `version`, `group:<name>`, `device:<id>` or `arm:<rollout>/<arm>`. */
    scope: z.string(),
    deviceId: z.string().nullable(),
    /**
     * The devices the breach is seen on: the device itself for a device's alert; for a version-,
     * fleet- or arm-wide one, each device whose own rollups breached the same condition when it fired.
     */
    devices: z.array(z.string()).default([]),
    state: z.enum(ALERT_STATES),
    /** When the breach began (device/data time). */
    since: epochMsSchema,
    firedAt: epochMsSchema.nullable(),
    resolvedAt: epochMsSchema.nullable(),
    updatedAt: epochMsSchema,
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    samples: z.number().int(),
    incidentId: z.string().nullable(),
    reason: z.string().nullable(),
    history: z.array(
      z.object({ state: z.enum(ALERT_STATES), ts: epochMsSchema, value: z.number().nullable() }).strict(),
    ),
  })
  .meta({ id: 'Alert' });
export type AlertView = z.infer<typeof alertViewSchema>;

export const incidentMemberSchema = z.object({
  scope: z.string(),
  deviceId: z.string().nullable(),
  alertId: z.string(),
  /** When this member's alert fired. */
  since: epochMsSchema,
  state: z.enum(ALERT_STATES),
});

export const incidentViewSchema = z
  .object({
    id: z.string(),
    rule: z.string(),
    metric: z.string(),
    severity: z.enum(SEVERITIES),
    model: z.string(),
    version: z.number().int(),
    state: z.enum(['open', 'resolved']),
    openedAt: epochMsSchema,
    updatedAt: epochMsSchema,
    /** Since when every member is resolved (the incident resolves after a quiet period); null while any fires. */
    quietSince: epochMsSchema.nullable(),
    resolvedAt: epochMsSchema.nullable(),
    /** Every scope (device, group, …) that fired within this incident, with since-when. */
    members: z.array(incidentMemberSchema),
    /** Every device any of its alerts was seen on (alerts' `devices`), in the order they were named. */
    devices: z.array(z.string()).default([]),
    /** What resolved it when something did more than wait: the loop run and the version that fixed it. */
    resolvedBy: z
      .object({
        loopRunId: z.string().nullable(),
        model: z.string(),
        version: z.number().int().nullable(),
        note: z.string(),
      })
      .nullable()
      .default(null),
  })
  .meta({ id: 'Incident' });
export type IncidentView = z.infer<typeof incidentViewSchema>;

export const ruleViewSchema = z
  .object({
    rule: ruleSchema,
    actions: z.array(alertActionSchema),
    source: z.enum(['api', 'config', 'default']),
    createdAt: epochMsSchema,
    updatedAt: epochMsSchema,
  })
  .meta({ id: 'MonitoringRule' });
export type RuleView = z.infer<typeof ruleViewSchema>;

const limit = integerText(1, 1000).optional();

export const ruleListQuerySchema = z.object({
  limit,
  after: z.string().min(1).max(128).optional().describe('page forwards: the last name seen'),
});
export const ruleListResponseSchema = z.object({ rules: z.array(ruleViewSchema), next: z.string().nullable() });
export const ruleResponseSchema = z.object({ rule: ruleViewSchema });
export const ruleEnableSchema = z.object({ enabled: z.boolean() }).strict();

export const alertListQuerySchema = z.object({
  state: z.enum(ALERT_STATES).optional(),
  model: restIdSchema.optional(),
  device: restIdSchema.optional(),
  rule: z.string().min(1).max(128).optional(),
  limit,
  before: z.string().min(1).max(64).optional().describe('page backwards: the last id seen'),
});
export type AlertListQuery = z.output<typeof alertListQuerySchema>;
export const alertListResponseSchema = z.object({ alerts: z.array(alertViewSchema), next: z.string().nullable() });

export const incidentListQuerySchema = z.object({
  state: z.enum(['open', 'resolved']).optional(),
  model: restIdSchema.optional(),
  limit,
  before: z.string().min(1).max(64).optional().describe('page backwards: the last id seen'),
});
export const incidentListResponseSchema = z.object({
  incidents: z.array(incidentViewSchema),
  next: z.string().nullable(),
});
export const incidentResponseSchema = z.object({
  incident: incidentViewSchema,
  alerts: z.array(alertViewSchema),
  /** Retraining loop runs this incident started, newest first, with how each ended (a rejected challenger says why here). */
  loopRuns: z
    .array(
      z.object({
        id: z.string(),
        state: z.string(),
        step: z.string(),
        version: z.number().int().nullable(),
        reason: z.string().nullable(),
      }),
    )
    .default([]),
});

/** A version's reference distribution from live data: this scope's rollups over [from, to). */
export const referenceWindowRequestSchema = z
  .object({
    scope: z
      .string()
      .regex(
        /^(fleet|group:[A-Za-z0-9_.-]{1,64}|device:[A-Za-z0-9_.-]{1,64})$/,
        'use fleet, group:<name> or device:<id>',
      )
      .default('fleet'),
    from: epochMsSchema,
    to: epochMsSchema,
  })
  .strict()
  .refine((r) => r.from < r.to, { message: 'from must be before to', path: ['to'] });
export const referenceWindowResponseSchema = z.object({
  reference: z.object({
    model: z.string(),
    version: z.number().int(),
    scope: z.string(),
    from: epochMsSchema,
    to: epochMsSchema,
    setAt: epochMsSchema,
    setBy: z.string(),
  }),
});
