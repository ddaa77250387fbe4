/**
 * @module rest/devices
 * Devices as the fleet sees them (what each runs, what it was assigned, its labels), direct
 * deployments and the device list's filters: GET/PUT /api/v1/devices…, POST /api/v1/deployments.
 */
import { z } from 'zod';
import { modelVersionSchema } from '../manifest.js';
import { desiredStateSchema } from '../messages.js';
import { ID_PATTERN } from '../topics.js';
import {
  booleanTextSchema,
  epochMsSchema,
  integerText,
  restIdSchema,
  stringMapSchema,
  versionTextSchema,
} from './shared.js';

/** Tag keys as every boundary accepts them (enrollment tokens, device labels, rollout targets). */
export const tagKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'tag keys are 1-64 characters from A-Z a-z 0-9 _ . -');

/** Operator labels, e.g. {"site": "plant-1", "hw": "pi4"}: what can be set can also be selected. */
export const tagsSchema = z
  .record(tagKeySchema, z.string().min(1).max(128))
  .refine((t) => Object.keys(t).length <= 32, 'at most 32 tags');

export const groupSchema = z
  .string()
  .regex(ID_PATTERN, 'a group is 1-64 characters from A-Z a-z 0-9 _ . - starting with a letter or digit');

export const assignmentStatusSchema = z
  .object({
    model: z.string(),
    version: z.number().int(),
    /** assigned, then whatever the device last reported: downloading, verified, active, rejected, failed, removed. */
    state: z
      .string()
      .describe(
        'assigned, then what the device last reported: downloading, verified, active, rejected, failed, removed',
      ),
    code: z.string().nullable(),
    reason: z.string().nullable(),
    updatedAt: epochMsSchema,
  })
  .meta({ id: 'Assignment' });
export type AssignmentStatus = z.infer<typeof assignmentStatusSchema>;

/** A model a device runs, as it last reported. */
export const reportedModelSchema = z.object({ name: z.string(), version: z.number().int(), sha256: z.string() });

export const deviceSummarySchema = z
  .object({
    id: z.string(),
    online: z.boolean(),
    lastSeen: epochMsSchema.nullable(),
    firstSeen: epochMsSchema,
    session: z.number().int(),
    agentVersion: z.string().nullable(),
    arch: z.string().nullable(),
    platform: z.string().nullable(),
    hardware: z.string().nullable(),
    runtime: z.object({ name: z.string(), version: z.string() }).nullable(),
    stream: z.string().nullable(),
    /** What the device runs, as it last said. */
    models: z.array(reportedModelSchema),
    /** What the fleet wants it to run, and how far it got. */
    assignments: z.array(assignmentStatusSchema),
    backlog: z.number().int(),
    /** Records the device dropped (buffer cap), as it last reported. */
    dropped: z.number().int(),
    records: z.number().int(),
    /** Artifact bytes the fleet sent this device (HTTP and MQTT), a running total. */
    bytesSent: z.number().int(),
    /** Candidate versions running beside the serving one (role shadow), and how far each got. */
    shadows: z.array(assignmentStatusSchema),
    /** Operator-assigned group (e.g. a site), or null. Rollouts select devices by it. */
    group: z.string().nullable(),
    /** Operator-assigned labels, e.g. {"site": "plant-1", "hw": "pi4"}. */
    tags: stringMapSchema,
    /** A disabled device cannot connect to the embedded broker or re-enroll. */
    disabled: z.boolean(),
    /** Pending or firing alerts about this device alone: its own local alerts and device-scope rules. */
    openAlerts: z.number().int().describe('pending or firing alerts about this device alone'),
  })
  .meta({ id: 'Device' });
export type DeviceSummary = z.infer<typeof deviceSummarySchema>;

/** One update report as the server took it. */
export const updateEventSchema = z.object({
  model: z.string(),
  version: z.number().int(),
  state: z.string(),
  code: z.string().nullable(),
  reason: z.string().nullable(),
  session: z.number().int(),
  reportSeq: z.number().int(),
  ts: epochMsSchema,
  receivedAt: epochMsSchema,
});
export type UpdateEvent = z.infer<typeof updateEventSchema>;

/** GET /api/v1/devices/{id}: the device, its recent update reports (newest first), the desired state published to it. */
export const deviceDetailSchema = z
  .object({
    device: deviceSummarySchema,
    events: z.array(updateEventSchema),
    desired: desiredStateSchema.nullable().describe('the desired state published to the device'),
    credential: z.object({ username: z.string(), issuedAt: epochMsSchema }).nullable(),
  })
  .meta({ id: 'DeviceDetail' });
export type DeviceDetail = z.infer<typeof deviceDetailSchema>;

/** The columns the device list sorts by; ties are broken by id, ascending, whatever the order. */
export const DEVICE_SORT_KEYS = [
  'id',
  'lastSeen',
  'backlog',
  'dropped',
  'group',
  'hardware',
  'agentVersion',
  'version',
] as const;
export type DeviceSortKey = (typeof DEVICE_SORT_KEYS)[number];

/** Cursors are opaque: what a previous page's `nextCursor` said, unchanged. */
const cursorSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,1024}$/, "a cursor is the previous page's nextCursor, sent back unchanged");

export const deviceListQuerySchema = z
  .object({
    group: groupSchema.optional(),
    tag: z
      .array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}=.{1,128}$/, 'tag filters look like key=value'))
      .optional()
      .describe('key=value; repeat for several (all must match)'),
    disabled: booleanTextSchema.optional(),
    online: booleanTextSchema.optional(),
    q: z.string().min(1).max(64).optional().describe('part of the device id (case-sensitive)'),
    hardware: z.string().min(1).max(128).optional().describe('exactly this hardware, as the device reports it'),
    agentVersion: z.string().min(1).max(64).optional().describe('exactly this agent version'),
    model: restIdSchema.optional().describe('devices that run or were assigned this model (see versionOf)'),
    version: versionTextSchema.optional().describe('with model: that exact version'),
    versionOf: z
      .enum(['running', 'assigned'])
      .optional()
      .describe('with model: what the device runs, or what it was assigned; default either'),
    sort: z
      .enum(DEVICE_SORT_KEYS)
      .optional()
      .describe(
        'default id; version: the running version of `model`, or the highest running version when no model is given',
      ),
    order: z
      .enum(['asc', 'desc'])
      .optional()
      .describe('default asc; unknown values (never seen, nothing running) sort first'),
    limit: integerText(1, 500)
      .optional()
      .describe('a page of at most this many devices, with nextCursor; without limit every matching device'),
    cursor: cursorSchema.optional().describe("the previous page's nextCursor, with the same filters, sort and order"),
  })
  .superRefine((q, ctx) => {
    if (q.version !== undefined && q.model === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['version'],
        message: 'version needs model (e.g. model=distance&version=3)',
      });
    if (q.versionOf !== undefined && q.model === undefined)
      ctx.addIssue({ code: 'custom', path: ['versionOf'], message: 'versionOf needs model' });
    if (q.cursor !== undefined && q.limit === undefined)
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'cursor needs limit (the page size)' });
  });
export type DeviceListQuery = z.input<typeof deviceListQuerySchema>;

/** PUT /api/v1/devices/{id}: tags replace the device's whole tag set; group null clears it. */
export const deviceLabelsRequestSchema = z
  .object({ group: groupSchema.nullable().optional(), tags: tagsSchema.optional() })
  .refine(
    (b) => b.group !== undefined || b.tags !== undefined,
    'send "group" (null clears it) and/or "tags" (replaces them)',
  )
  .meta({ id: 'DeviceLabels' });
export type DeviceLabelsRequest = z.input<typeof deviceLabelsRequestSchema>;

export const deviceResponseSchema = z.object({ device: deviceSummarySchema });
export const deviceListResponseSchema = z.object({
  devices: z.array(deviceSummarySchema),
  total: z.number().int().describe('devices matching the filters, on every page'),
  nextCursor: z
    .string()
    .nullable()
    .describe('send as cursor for the page after this one; null on the last page and without limit'),
});
export type DeviceListResponse = z.infer<typeof deviceListResponseSchema>;

const facetValueSchema = z.object({ value: z.string().nullable(), count: z.number().int() });

/** GET /api/v1/devices/facets: what the device list's filters can choose from, with how many devices each. */
export const deviceFacetsResponseSchema = z
  .object({
    total: z.number().int(),
    online: z.number().int(),
    disabled: z.number().int(),
    groups: z.array(facetValueSchema).describe('null: devices in no group'),
    hardware: z.array(facetValueSchema).describe('null: devices that did not say'),
    agentVersions: z.array(facetValueSchema).describe('null: enrolled, never connected'),
    models: z
      .array(
        z.object({
          model: z.string(),
          version: z.number().int(),
          running: z.number().int().describe('devices that run it'),
          assigned: z.number().int().describe('devices it is assigned to (serving)'),
        }),
      )
      .describe('by model, then version'),
  })
  .meta({ id: 'DeviceFacets' });
export type DeviceFacets = z.infer<typeof deviceFacetsResponseSchema>;
export const credentialRevokedResponseSchema = z.object({ device: deviceSummarySchema, credential: z.null() });

export const deploymentRequestSchema = z.object({
  model: restIdSchema,
  version: modelVersionSchema,
  devices: z.array(restIdSchema).min(1).max(10_000),
  /** shadow: the devices run it beside the version they serve, recording its outputs, never answering with it. */
  role: z.enum(['serve', 'shadow']).optional(),
});
export type DeploymentRequest = z.input<typeof deploymentRequestSchema>;

export const deploymentResponseSchema = z.object({
  deployment: z.object({
    model: z.string(),
    version: z.number().int(),
    devices: z.array(z.string()),
    role: z.enum(['serve', 'shadow']).optional(),
  }),
});
export type DeploymentResponse = z.infer<typeof deploymentResponseSchema>;

export const removeShadowRequestSchema = z.object({ devices: z.array(restIdSchema).min(1).max(10_000) });
export const removeShadowResponseSchema = z.object({ removed: z.array(z.string()) });
