/**
 * @module sensors/sensor-config
 * Settings for sensor bindings: which MQTT topics of existing sensors carry reference values
 * for which model, how to read a value out of a payload, and how to join it to predictions.
 */
import { z } from 'zod';
import { isValidId } from '@edgeloop/protocol';

const id = z.string().refine(isValidId, 'must be 1-64 characters from A-Z a-z 0-9 _ . -');

export const sensorBrokerSchema = z.object({
  url: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
  username: z.string().optional(),
  password: z.string().optional(),
});

export const payloadSchema = z.discriminatedUnion('format', [
  z.object({
    format: z.literal('json'),
    /** Dot path to the value, e.g. "data.distance_mm" or "readings.0.v". */
    valuePath: z.string().min(1),
    /** Dot path to the measurement time (epoch ms, epoch s, or ISO 8601); default: arrival time. */
    timestampPath: z.string().min(1).optional(),
    /** Dot path to the request id of the prediction this value belongs to (join by correlation). */
    correlationPath: z.string().min(1).optional(),
  }),
  /** The whole payload is a number, e.g. "152.4". */
  z.object({ format: z.literal('number') }),
]);
export type PayloadSpec = z.infer<typeof payloadSchema>;

export const referenceBindingSchema = z
  .object({
    name: id,
    /** "fleet" = the fleet broker; otherwise a key of sensors.brokers (a local/site broker). */
    broker: z.string().default('fleet'),
    /** MQTT topic filter; wildcards allowed. */
    topic: z.string().min(1),
    payload: payloadSchema,
    /** value × scale + offset, e.g. scale 1000 turns metres into millimetres. */
    scale: z.number().default(1),
    offset: z.number().default(0),
    unit: z.string().max(32).optional(),
    role: z.literal('reference').default('reference'),
    model: id,
    join: z
      .discriminatedUnion('by', [
        z.object({ by: z.literal('timestamp'), windowMs: z.number().int().min(1).max(3_600_000).default(1000) }),
        z.object({ by: z.literal('correlation') }),
      ])
      .default({ by: 'timestamp', windowMs: 1000 }),
    /**
     * How long a new prediction waits in the buffer for its reference before it syncs without
     * one (a later value is still sent as an update). Default: the join window + 500 ms.
     */
    holdMs: z.number().int().min(0).max(3_600_000).optional(),
  })
  .refine((b) => b.join.by !== 'correlation' || (b.payload.format === 'json' && b.payload.correlationPath), {
    message: 'join by correlation needs payload.format "json" with a correlationPath',
    path: ['join'],
  });
export type ReferenceBinding = z.infer<typeof referenceBindingSchema>;

export const sensorsConfigSchema = z
  .object({
    brokers: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), sensorBrokerSchema).default({}),
    bindings: z.array(referenceBindingSchema).max(256).default([]),
    /** How long synced records stay joinable for late reference values. */
    lateReferenceWindowMs: z.number().int().min(0).default(3_600_000),
  })
  .refine((s) => s.bindings.every((b) => b.broker === 'fleet' || b.broker in s.brokers), {
    message: 'a binding names a broker that is not defined under sensors.brokers',
    path: ['bindings'],
  })
  .prefault({});
export type SensorsConfig = z.infer<typeof sensorsConfigSchema>;

export function holdMsOf(binding: ReferenceBinding): number {
  if (binding.holdMs !== undefined) return binding.holdMs;
  return binding.join.by === 'timestamp' ? binding.join.windowMs + 500 : 5000;
}
