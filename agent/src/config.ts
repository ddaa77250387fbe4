/**
 * @module config
 * Agent settings: a JSON file validated against a schema (errors name the path and the reason),
 * then environment overrides (EDGELOOP_*), so a systemd unit can change one value without
 * editing the file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { IMAGE_FEATURES, decodePublicKey, describeZodError, isValidId } from '@edgeloop/protocol';
import { updateOptionsSchema } from './updates/update-options.js';
import { sensorsConfigSchema } from './sensors/sensor-config.js';
import { samplingConfigSchema } from './sampling/sampling-config.js';
import { monitoringConfigSchema } from './monitoring/monitoring-config.js';

function isPublicKey(text: string): boolean {
  try {
    decodePublicKey(text);
    return true;
  } catch {
    return false;
  }
}

export const agentConfigSchema = z.object({
  deviceId: z.string().refine(isValidId, 'must be 1-64 characters from A-Z a-z 0-9 _ . -'),
  dataDir: z.string().min(1),
  /** Hardware class matched against manifest targets, e.g. "raspberrypi4", "jetson-orin". */
  hardware: z.string().max(64).optional(),
  api: z
    .object({
      host: z.string().default('127.0.0.1'),
      /** 0 = any free port (printed at start). */
      port: z.number().int().min(0).max(65535).default(8470),
    })
    .prefault({}),
  fleet: z.object({
    mqttUrl: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
    username: z.string().optional(),
    password: z.string().optional(),
    /**
     * The fleet server's HTTP origin (written by `edgeloop-agent enroll`): artifact downloads send
     * the credentials above only to this scheme, host and port, and refuse artifact URLs elsewhere.
     */
    httpUrl: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * base64 ed25519 root public keys of the fleet (`edgeloop serve` prints it; /api/v1/health
     * `publicKey`). They sign the keysets that name the keys allowed to sign manifests, so the
     * fleet can rotate its signing key without touching the device.
     */
    trustedKeys: z
      .array(
        z
          .string()
          .refine(isPublicKey, 'must be a base64 ed25519 public key (32 bytes), as printed by "edgeloop serve"'),
      )
      .min(1, 'at least one trusted fleet public key is needed (printed by "edgeloop serve", also at /api/v1/health)'),
    /**
     * PEM file of the fleet's CA, pinned at enrollment (--ca-fingerprint): the only CA the MQTT
     * link and artifact downloads trust. Absent: the system's trust store. A relative path is
     * relative to the config file's folder (enroll writes `fleet-ca.pem`, beside the config).
     */
    ca: z.string().min(1).optional(),
    /** Reconnect backoff: doubles from min to max, with jitter, reset on success. */
    reconnectMinMs: z.number().int().min(100).default(1000),
    reconnectMaxMs: z.number().int().min(100).default(60_000),
  }),
  sync: z
    .object({
      batchSize: z.number().int().min(1).max(5000).default(2000),
      window: z.number().int().min(1).max(64).default(8),
      flushIntervalMs: z.number().int().min(0).default(200),
      /**
       * Telemetry batches that carry every record there was (fewer than batchSize) waiting for
       * their ack, at most; the next waits for an ack and then carries all made meanwhile, so a
       * slow fleet gets fewer, larger batches. Full batches (a backlog) still use the window.
       * Set it to `window` for the old behaviour (a batch per flush interval, whatever the acks).
       */
      partialBatchesInFlight: z.number().int().min(1).max(64).default(1),
      /**
       * The shortest wait for an ack (of any outbox stream). The wait is learnt from how late acks
       * come (srtt + 4·rttvar) and doubles with each expiry in a row, up to ackTimeoutMaxMs.
       */
      ackTimeoutMs: z.number().int().min(100).default(15_000),
      ackTimeoutMaxMs: z.number().int().min(100).default(300_000),
      /** Pause after an ack timeout: doubles from min to max with jitter for timeouts in a row, reset by an ack. */
      backoffMinMs: z.number().int().min(10).default(1000),
      backoffMaxMs: z.number().int().min(10).default(60_000),
      /** compact = columnar + deflate (~25 B/record); json for debugging with mosquitto_sub. */
      encoding: z.enum(['compact', 'json']).default('compact'),
      /** Uplink cap for telemetry payloads; 0 = unlimited. */
      maxBytesPerSecond: z.number().int().min(0).default(0),
    })
    .refine((s) => s.backoffMinMs <= s.backoffMaxMs, {
      message: 'backoffMaxMs must not be below backoffMinMs',
      path: ['backoffMaxMs'],
    })
    .refine((s) => s.partialBatchesInFlight <= s.window, {
      message: 'partialBatchesInFlight must not be above window (batches in flight at most)',
      path: ['partialBatchesInFlight'],
    })
    .refine((s) => s.ackTimeoutMs <= s.ackTimeoutMaxMs, {
      message: 'ackTimeoutMaxMs must not be below ackTimeoutMs',
      path: ['ackTimeoutMaxMs'],
    })
    .prefault({}),
  /** Existing sensors that publish reference values (ground truth) over MQTT. */
  sensors: sensorsConfigSchema,
  /** Raw inputs kept for retraining (off unless a policy is set). */
  sampling: samplingConfigSchema,
  /** Drop-oldest limits of the record buffer; drops are counted and reported. */
  buffer: z
    .object({
      maxBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .default(256 * 1024 * 1024),
      maxAgeDays: z.number().min(0).default(30),
      minFreeDiskMb: z.number().min(0).default(100),
      /** How often limits are checked (also every few thousand appends). */
      checkIntervalMs: z.number().int().min(50).default(1000),
    })
    .prefault({}),
  runtime: z
    .object({
      intraOpThreads: z.number().int().min(0).default(0),
      /** ONNX Runtime build: auto = native where it loads (x64, arm64), else WASM (e.g. 32-bit ARM). */
      backend: z.enum(['auto', 'native', 'wasm']).default('auto'),
    })
    .prefault({}),
  /** Model downloads (chunk size, bandwidth cap, retries) and the crash-loop guard. */
  updates: updateOptionsSchema,
  log: z
    .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
  /** On-device drift detection, local alerts and edge summaries (monitoring/monitoring-config.ts). */
  monitoring: monitoringConfigSchema,
  /** Monitoring features recorded per image input: `default` for every model, `models` by model name. */
  features: z
    .object({
      default: z.array(z.enum(IMAGE_FEATURES)).default([...IMAGE_FEATURES]),
      models: z.record(z.string(), z.array(z.enum(IMAGE_FEATURES))).default({}),
    })
    .prefault({}),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

export class ConfigError extends Error {}

export function parseAgentConfig(input: unknown, source = 'config'): AgentConfig {
  const parsed = agentConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`${source} is invalid: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** Reads the file, applies EDGELOOP_* overrides from env, validates. */
export function loadAgentConfig(path: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(
      `cannot read agent config ${path}: ${(err as Error).message}; create one with edgeloop-agent init`,
    );
  }
  const fleet = { ...(raw.fleet as object | undefined) } as Record<string, unknown>;
  const api = { ...(raw.api as object | undefined) } as Record<string, unknown>;
  const log = { ...(raw.log as object | undefined) } as Record<string, unknown>;
  const runtime = { ...(raw.runtime as object | undefined) } as Record<string, unknown>;
  if (env.EDGELOOP_DEVICE_ID) raw.deviceId = env.EDGELOOP_DEVICE_ID;
  if (env.EDGELOOP_DATA_DIR) raw.dataDir = env.EDGELOOP_DATA_DIR;
  if (env.EDGELOOP_MQTT_URL) fleet.mqttUrl = env.EDGELOOP_MQTT_URL;
  if (typeof fleet.ca === 'string' && fleet.ca !== '') fleet.ca = resolve(dirname(path), fleet.ca);
  if (env.EDGELOOP_API_PORT) api.port = Number(env.EDGELOOP_API_PORT);
  if (env.EDGELOOP_LOG_LEVEL) log.level = env.EDGELOOP_LOG_LEVEL;
  if (env.EDGELOOP_RUNTIME_BACKEND) runtime.backend = env.EDGELOOP_RUNTIME_BACKEND;
  return parseAgentConfig({ ...raw, fleet, api, log, runtime }, path);
}
