/**
 * @module config
 * Fleet server settings, schema-validated. Defaults are safe for one machine: everything binds
 * to 127.0.0.1; expose it deliberately with the host options.
 */
import { z } from 'zod';
import { describeZodError, MAX_MODEL_VERSION } from '@edgeloop/protocol';
import { alertActionSchema, loopPolicySchema, ruleDefinitionSchema, splitRuleInput } from '@edgeloop/protocol/rest';
import { mosquittoSettingsSchema } from './broker/mosquitto-settings.js';
import { MIN_ADMIN_TOKEN_LENGTH } from './identity/admin-tokens.js';
import { MAX_TELEMETRY_RETENTION_DAYS } from './store/open-fleet-store.js';
import { tlsSettingsSchema } from './tls/tls-settings.js';
import { INSTANCE_ID } from './cluster/cluster-settings.js';
import { SHARE_GROUP } from './ingest/fleet-bus.js';

export const DEFAULT_HTTP_PORT = 8460;
export const DEFAULT_MQTT_PORT = 18830;

export const fleetConfigSchema = z.object({
  dataDir: z.string().min(1),
  /**
   * Where the fleet store lives: a SQLite file path, or a postgres:// URL (also env
   * EDGELOOP_DB_URL). Default: <dataDir>/fleet.db.
   */
  db: z.string().min(1).optional(),
  /**
   * Days of raw telemetry kept; its rollups stay longer (rollupRetentionDays). PostgreSQL: by the
   * records' own time (whole daily partitions are dropped hourly; default env
   * EDGELOOP_TELEMETRY_RETENTION_DAYS, else 30). SQLite: by receive time, deleted hourly in small
   * batches (default 30).
   */
  telemetryRetentionDays: z
    .number()
    .int('telemetryRetentionDays must be a whole number of days')
    .min(1)
    .max(MAX_TELEMETRY_RETENTION_DAYS)
    .optional(),
  /**
   * Days of monitoring rollups kept (by window end, device time), downsampled with age
   * (protocol's DOWNSAMPLE_STEPS). Default 400: a year of history plus a season to compare with.
   */
  rollupRetentionDays: z
    .number()
    .int('rollupRetentionDays must be a whole number of days')
    .min(1)
    .max(MAX_TELEMETRY_RETENTION_DAYS)
    .optional(),
  http: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(DEFAULT_HTTP_PORT),
    })
    .prefault({}),
  mqtt: z
    .discriminatedUnion('mode', [
      z.object({
        mode: z.literal('embedded'),
        host: z.string().default('127.0.0.1'),
        /** Default DEFAULT_MQTT_PORT, or 8883 (MQTT over TLS by convention) when `tls` is set. */
        port: z.number().int().min(0).max(65535).optional(),
        /**
         * Password of the broker's full-access user `edgeloop-server` (the server's own client).
         * Random per start unless set here or by env EDGELOOP_MQTT_SERVER_PASSWORD, e.g. to watch
         * traffic: mosquitto_sub -u edgeloop-server -P … -t 'edgeloop/#' -v. Keep it secret.
         */
        serverPassword: z.string().min(16, 'mqtt.serverPassword must be at least 16 characters').optional(),
        /**
         * Per source address (IPv6: per /64): `burst` connections may wait to authenticate at once,
         * and connections that never authenticate come back at `perSecond`. Authenticated ones
         * cost nothing (broker/connect-limiter.ts). Behind a TCP proxy every client shares its address.
         */
        connectRate: z
          .object({
            burst: z.number().int().min(1).max(1_000_000).default(100),
            perSecond: z.number().positive().max(1_000_000).default(10),
          })
          .prefault({}),
        /** Connections accepted but not yet authenticated, over all addresses; more are closed at once. */
        maxPendingConnections: z.number().int().min(1).max(1_000_000).default(1000),
        /** A connection that has not authenticated this long after it was accepted is closed. */
        connectTimeoutMs: z.number().int().min(100).max(300_000).default(10_000),
      }),
      z
        .object({
          mode: z.literal('external'),
          url: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
          username: z.string().optional(),
          password: z.string().optional(),
          /** PEM file of the CA that signed an mqtts:// broker's certificate (default: the `tls` CA, else the system's). */
          caFile: z.string().min(1).optional(),
          /** Keep this Mosquitto's password and ACL files in step with device identity (docs/external-broker.md). */
          mosquitto: mosquittoSettingsSchema.optional(),
          /**
           * Subscribe to device→server channels as a shared subscription (`$share/<shareGroup>/…`),
           * so servers of one group split the messages (docs/cluster.md). Needs a broker with
           * shared subscriptions (Mosquitto 2, EMQX, HiveMQ); off = every server gets everything.
           */
          sharedSubscriptions: z.boolean().default(true),
          shareGroup: z
            .string()
            .regex(SHARE_GROUP, 'mqtt.shareGroup must be 1-64 letters, digits, "-" or "_"')
            .default('edgeloop'),
        })
        .refine((m) => !m.mosquitto || m.password, {
          message: "managing Mosquitto needs the fleet server's own MQTT password: set mqtt.password (--mqtt-password)",
          path: ['password'],
        }),
    ])
    .prefault({ mode: 'embedded' }),
  /** HTTPS and MQTT over TLS (tls/tls-settings.ts). */
  tls: tlsSettingsSchema.optional(),
  /** Allow plain HTTP/MQTT on a non-loopback address (credentials cross the network in clear text). */
  insecure: z.boolean().default(false),
  /** Base URL devices use to download artifacts; defaults to the HTTP listen address. */
  publicUrl: z.url().optional(),
  /** Broker URL handed to enrolling devices; defaults to the broker's listen address (or mqtt.url). */
  publicMqttUrl: z
    .string()
    .regex(/^(mqtts?|wss?|tcp):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL')
    .optional(),
  /**
   * The bootstrap admin token (also env EDGELOOP_ADMIN_TOKEN), for tests and scripts. Without it a
   * server with no admin token creates one and writes it to <dataDir>/admin.token (0600).
   */
  adminToken: z
    .string()
    .min(
      MIN_ADMIN_TOKEN_LENGTH,
      `adminToken must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (it is stored as a fast hash)`,
    )
    .max(256)
    .optional(),
  /** Artifact delivery (HTTP and MQTT): devices downloading at once (the rest queue), and when an idle one loses its slot. */
  transfer: z
    .object({
      maxConcurrentDownloads: z.number().int().min(1).max(100_000).default(64),
      slotIdleMs: z.number().int().min(100).default(15_000),
    })
    .prefault({}),
  /**
   * A push naming a version more than maxVersionJump above the latest of that name is refused
   * unless forced (edgeloop models push --force): one typo would leave devices refusing every lower version.
   */
  registry: z.object({ maxVersionJump: z.number().int().min(1).max(MAX_MODEL_VERSION).default(1000) }).prefault({}),
  /** Agents refuse manifests after this; the re-signer renews them while an assignment is still wanted. */
  manifestTtlDays: z
    .number()
    .min(1 / 24)
    .max(3650)
    .default(30),
  /** How often assigned manifests expiring within half their TTL are re-signed (capped at TTL/4). */
  resignIntervalMinutes: z
    .number()
    .min(1 / 60)
    .max(7 * 24 * 60)
    .default(60),
  /**
   * The root public key (base64) when the root's private half is kept offline; then rotations are
   * signed with `edgeloop keys rotate --root-key FILE`. Absent: <dataDir>/keys/root.key (0600).
   */
  rootPublicKey: z.string().optional(),
  /** Several fleet servers on one PostgreSQL database and one broker (docs/cluster.md). */
  cluster: z
    .object({
      /**
       * The folder every instance shares (NFS, a mounted volume) for signing keys, artifacts and
       * kept samples; setting it declares a cluster. Default: the data directory (one instance).
       */
      sharedDir: z.string().min(1).optional(),
      /**
       * Where artifacts and kept samples live: `folder` (sharedDir, else the data directory) or
       * `postgres` (in the fleet database; for servers without a shared file system).
       */
      blobs: z.enum(['folder', 'postgres']).default('folder'),
      /** This instance's name in logs, /health and pg_stat_activity (default: host and pid). */
      instanceId: z
        .string()
        .regex(INSTANCE_ID, 'cluster.instanceId must be 1-64 letters, digits, ".", "-" or "_"')
        .optional(),
      /** How often a follower tries to take the leader lease and the leader checks it (PostgreSQL). */
      leaderPollMs: z.number().int().min(100).max(60_000).default(2000),
    })
    .prefault({}),
  /**
   * Training jobs (training/training-service.ts). Trainers are commands configured here, by
   * name; a REST request only names one, so it can never make the server run anything else.
   * "builtin" is the reference-family trainer of @edgeloop/models when it is installed.
   */
  training: z
    .object({
      trainers: z
        .record(
          z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a trainer name is 1-64 letters, digits, ".", "-" or "_"'),
          z.array(z.string().min(1)).min(1, 'a trainer is a command: the executable first, then its fixed arguments'),
        )
        .default({}),
      /** Trainers running at once across all jobs (default: the machine's cores). */
      maxConcurrentRuns: z.number().int().min(1).max(256).optional(),
      /** Per run, unless a job sets its own. */
      timeoutMs: z
        .number()
        .int()
        .min(1000)
        .max(86_400_000)
        .default(30 * 60_000),
    })
    .prefault({}),
  /**
   * Rules, alerts and incidents (monitoring/). `rules` are rule files' contents (the rule's fields
   * plus `actions`), stored with source "config" at every start; `actions` apply to every rule;
   * `webhookSecret` (also env EDGELOOP_WEBHOOK_SECRET) signs webhook bodies (HMAC-SHA256).
   */
  monitoring: z
    .object({
      evaluateEveryMs: z.number().int().min(100).max(600_000).default(5000),
      defaultRules: z.boolean().default(true),
      incidentQuietMs: z
        .number()
        .int()
        .min(0)
        .max(86_400_000)
        .default(5 * 60_000),
      rules: z.array(z.preprocess(splitRuleInput, ruleDefinitionSchema)).max(1000).default([]),
      actions: z.array(alertActionSchema).max(8).default([]),
      webhookSecret: z.string().min(16, 'use at least 16 characters for the webhook secret').optional(),
    })
    .prefault({}),
  /** The rollout engine re-reads every active rollout from the database this often (rollouts/rollout-engine.ts). */
  rollouts: z.object({ tickMs: z.number().int().min(10).max(60_000).default(1000) }).prefault({}),
  /**
   * The retraining loop (loop/). `policies` (one per model, protocol's rest/loop.ts documents the
   * fields and defaults) are stored with source "config" at every start, unless the API set one for
   * that model; without a policy a model is never retrained by itself.
   */
  loop: z
    .object({
      policies: z
        .array(loopPolicySchema)
        .max(1000)
        .default([])
        .refine((ps) => new Set(ps.map((p) => p.model)).size === ps.length, 'give each model one policy'),
      tickMs: z.number().int().min(10).max(60_000).default(2000),
    })
    .prefault({}),
  log: z
    .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
  /**
   * Check every API answer against the REST contract (api/response-contract.ts) and answer 500
   * instead of one that breaks it; also env EDGELOOP_VALIDATE_RESPONSES=1. For tests and API work:
   * it reads every JSON answer twice.
   */
  validateResponses: z.boolean().default(false),
});

export type FleetConfig = z.infer<typeof fleetConfigSchema>;
export type FleetConfigInput = z.input<typeof fleetConfigSchema>;

export function parseFleetConfig(input: unknown): FleetConfig {
  const parsed = fleetConfigSchema.safeParse(input);
  if (!parsed.success) throw new Error(`fleet server settings are invalid: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/**
 * EDGELOOP_ADMIN_TOKEN, EDGELOOP_MQTT_SERVER_PASSWORD and EDGELOOP_WEBHOOK_SECRET fill the settings the input leaves
 * out, before validation: secrets from the environment get the same checks (length) as the file.
 */
export function withEnvSecrets(input: FleetConfigInput, env: NodeJS.ProcessEnv): FleetConfigInput {
  const adminToken = input.adminToken ?? (env.EDGELOOP_ADMIN_TOKEN || undefined);
  const db = input.db ?? (env.EDGELOOP_DB_URL || undefined);
  const serverPassword = env.EDGELOOP_MQTT_SERVER_PASSWORD || undefined;
  const webhookSecret = input.monitoring?.webhookSecret ?? (env.EDGELOOP_WEBHOOK_SECRET || undefined);
  const mqtt =
    input.mqtt?.mode === 'embedded' || input.mqtt === undefined
      ? {
          mode: 'embedded' as const,
          ...input.mqtt,
          ...(serverPassword && !input.mqtt?.serverPassword ? { serverPassword } : {}),
        }
      : input.mqtt;
  return {
    ...input,
    ...(adminToken ? { adminToken } : {}),
    ...(db ? { db } : {}),
    mqtt,
    ...(webhookSecret ? { monitoring: { ...input.monitoring, webhookSecret } } : {}),
  };
}
