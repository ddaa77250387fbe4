/**
 * @module sensors/sensor-config
 * Settings for sensor bindings: which MQTT topics of existing sensors carry values for which
 * model, and how to read a value out of a payload. A binding's role says what the value is: a
 * reference (what the model should have predicted; joined to predictions) or an input (the
 * model runs on the latest input values when its trigger says so).
 */
import { z } from 'zod';
import { isValidId } from '@edgeloop/protocol';

const id = z.string().refine(isValidId, 'must be 1-64 characters from A-Z a-z 0-9 _ . -');

export const sensorBrokerSchema = z.object({
  url: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
  username: z.string().optional(),
  password: z.string().optional(),
  /** PEM file of the CA that signed an mqtts:// site broker's certificate (default: the system's). */
  ca: z.string().min(1).optional(),
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

/** Where a binding listens and how it reads a number: common to both roles. */
const bindingBase = {
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
  model: id,
};

/** A sensor that measures what a model predicts: its values become the records' reference. */
export const referenceBindingSchema = z
  .object({
    ...bindingBase,
    role: z.literal('reference'),
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

/** Features recorded for every tensor input (predict/feeds.ts tensorFeatures); binding names must not shadow them. */
const TENSOR_FEATURE_NAMES = ['mean', 'std', 'min', 'max'];

/** Largest element position an input binding may fill (a sensor vector, not an image). */
export const MAX_INPUT_INDEX = 4095;

/**
 * A sensor whose value is a model input: it fills one element of an input tensor (row-major,
 * dynamic dimensions taken as 1), and the model runs on the latest values (sensors.triggers).
 */
export const inputBindingSchema = z.object({
  ...bindingBase,
  role: z.literal('input'),
  /** The model input this value feeds; default: the model's first input. */
  input: z.string().min(1).max(128).optional(),
  /** Position in that input's tensor, row-major: [1, 3] has positions 0, 1, 2. */
  index: z.number().int().min(0).max(MAX_INPUT_INDEX),
});
export type InputBinding = z.infer<typeof inputBindingSchema>;

export type SensorBinding = ReferenceBinding | InputBinding;

/** A binding without a role is a reference binding (the only kind before input bindings). */
const sensorBindingSchema = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !('role' in v) ? { ...v, role: 'reference' } : v),
  z.discriminatedUnion('role', [referenceBindingSchema, inputBindingSchema]),
);

/** When a model fed by input bindings runs. */
export const triggerSchema = z
  .object({
    /** "change": after any of its input values arrives; "interval": every intervalMs. */
    on: z.enum(['change', 'interval']).default('change'),
    intervalMs: z.number().int().min(10).max(86_400_000).default(1000),
    /**
     * "change": at most one prediction per this many ms; later values run once it has passed.
     * Every run is an fsynced record, so a chatty sensor should not set the pace by default.
     */
    minIntervalMs: z.number().int().min(0).max(86_400_000).default(1000),
    /** A value older than this is stale: the model does not run until every value is fresh. */
    maxAgeMs: z.number().int().min(1).max(86_400_000).default(60_000),
  })
  .prefault({});
export type Trigger = z.infer<typeof triggerSchema>;

export const sensorsConfigSchema = z
  .object({
    brokers: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), sensorBrokerSchema).default({}),
    bindings: z.array(sensorBindingSchema).max(256).default([]),
    /** Per model fed by input bindings: when it runs (default: on every change). */
    triggers: z.record(id, triggerSchema).default({}),
    /** How long synced records stay joinable for late reference values. */
    lateReferenceWindowMs: z.number().int().min(0).default(3_600_000),
  })
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    s.bindings.forEach((b, i) => {
      // Input values are kept and recorded under the binding's name.
      if (names.has(b.name))
        ctx.addIssue({
          code: 'custom',
          path: ['bindings', i, 'name'],
          message: `binding name "${b.name}" is used twice; names must be unique`,
        });
      names.add(b.name);
      if (b.role === 'input' && TENSOR_FEATURE_NAMES.includes(b.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['bindings', i, 'name'],
          message: `"${b.name}" is the name of a feature every tensor record carries (${TENSOR_FEATURE_NAMES.join(', ')}); name the binding after its sensor`,
        });
      }
    });
    s.bindings.forEach((b, i) => {
      if (b.broker !== 'fleet' && !(b.broker in s.brokers)) {
        ctx.addIssue({
          code: 'custom',
          path: ['bindings', i, 'broker'],
          message: `broker "${b.broker}" is not defined under sensors.brokers`,
        });
      }
    });
    // A record carries one reference value: a second binding would silently overwrite the first.
    const referenceOf = new Map<string, string>();
    s.bindings.forEach((b, i) => {
      if (b.role !== 'reference') return;
      const other = referenceOf.get(b.model);
      if (other === undefined) referenceOf.set(b.model, b.name);
      else
        ctx.addIssue({
          code: 'custom',
          path: ['bindings', i, 'model'],
          message: `model "${b.model}" already has reference binding "${other}", and a record carries one reference value: keep one binding per model (several sensors measuring the same quantity can share one binding with a topic wildcard such as "site/tof/+")`,
        });
    });
    const inputs = s.bindings.filter((b): b is InputBinding => b.role === 'input');
    const slots = new Map<string, string>();
    s.bindings.forEach((b, i) => {
      if (b.role !== 'input') return;
      const slot = `${b.model} ${b.input ?? '(first input)'} [${b.index}]`;
      const other = slots.get(slot);
      if (other)
        ctx.addIssue({
          code: 'custom',
          path: ['bindings', i, 'index'],
          message: `${slot} is already fed by binding "${other}"`,
        });
      else slots.set(slot, b.name);
    });
    for (const model of Object.keys(s.triggers)) {
      if (!inputs.some((b) => b.model === model)) {
        ctx.addIssue({
          code: 'custom',
          path: ['triggers', model],
          message: `no binding with role "input" feeds model "${model}"`,
        });
      }
    }
  })
  .prefault({});
export type SensorsConfig = z.infer<typeof sensorsConfigSchema>;

export const referenceBindings = (c: SensorsConfig): ReferenceBinding[] =>
  c.bindings.filter((b): b is ReferenceBinding => b.role === 'reference');
export const inputBindings = (c: SensorsConfig): InputBinding[] =>
  c.bindings.filter((b): b is InputBinding => b.role === 'input');

export function holdMsOf(binding: ReferenceBinding): number {
  if (binding.holdMs !== undefined) return binding.holdMs;
  return binding.join.by === 'timestamp' ? binding.join.windowMs + 500 : 5000;
}
