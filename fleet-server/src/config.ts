/**
 * @module config
 * Fleet server settings, schema-validated. Defaults are safe for one machine: everything binds
 * to 127.0.0.1; expose it deliberately with the host options.
 */
import { z } from 'zod';
import { describeZodError } from '@edgeloop/protocol';

export const DEFAULT_HTTP_PORT = 8460;
export const DEFAULT_MQTT_PORT = 18830;

export const fleetConfigSchema = z.object({
  dataDir: z.string().min(1),
  http: z
    .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(DEFAULT_HTTP_PORT) })
    .prefault({}),
  mqtt: z
    .discriminatedUnion('mode', [
      z.object({
        mode: z.literal('embedded'),
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(DEFAULT_MQTT_PORT),
      }),
      z.object({
        mode: z.literal('external'),
        url: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
        username: z.string().optional(),
        password: z.string().optional(),
      }),
    ])
    .default({ mode: 'embedded', host: '127.0.0.1', port: DEFAULT_MQTT_PORT }),
  /** Base URL devices use to download artifacts; defaults to the HTTP listen address. */
  publicUrl: z.url().optional(),
  /** Agents refuse manifests after this; issue #4 re-signs while an assignment is still wanted. */
  manifestTtlDays: z.number().min(1 / 24).max(3650).default(30),
  log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
});

export type FleetConfig = z.infer<typeof fleetConfigSchema>;
export type FleetConfigInput = z.input<typeof fleetConfigSchema>;

export function parseFleetConfig(input: unknown): FleetConfig {
  const parsed = fleetConfigSchema.safeParse(input);
  if (!parsed.success) throw new Error(`fleet server settings are invalid: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
