/**
 * @module sensors/sensors
 * The sensor feature as one unit the agent starts and stops: one SensorLink for every binding,
 * dispatching each reading by its binding's role — reference values to the joiner
 * (reference-values.ts), input values to the models they feed (sensor-inputs.ts).
 */
import type { Logger } from 'pino';
import type { Manifest } from '@edgeloop/protocol';
import type { PredictInput } from '../predict/feeds.js';
import type { ReferenceValues } from './reference-values.js';
import { inputBindings, type SensorsConfig } from './sensor-config.js';
import { SensorInputs } from './sensor-inputs.js';
import { SensorLink } from './sensor-link.js';

export interface Sensors {
  link: SensorLink;
  inputs: SensorInputs | undefined;
  close(): Promise<void>;
}

export function startSensors(deps: {
  config: SensorsConfig;
  deviceId: string;
  fleet: { url: string; username?: string; password?: string };
  /** Started when there are reference bindings (startReferenceValues). */
  references: ReferenceValues | undefined;
  predict(model: string, input: PredictInput): Promise<unknown>;
  manifestOf(model: string): Manifest | undefined;
  log: Logger;
}): Sensors | undefined {
  if (deps.config.bindings.length === 0) return undefined;
  const log = deps.log.child({ part: 'sensors' });
  const bindings = inputBindings(deps.config);
  const inputs = bindings.length
    ? new SensorInputs({
        bindings,
        triggers: deps.config.triggers,
        manifestOf: deps.manifestOf,
        predict: deps.predict,
        log,
      })
    : undefined;
  const link = new SensorLink(
    deps.config,
    deps.fleet,
    deps.deviceId,
    (binding, reading, now) => {
      if (binding.role === 'input') return inputs!.accept(binding, reading, now);
      if (!deps.references) throw new Error('reference values are not running'); // cannot happen: a reference binding starts them
      return deps.references.accept(binding, reading, now);
    },
    log,
  );
  return {
    link,
    inputs,
    async close() {
      await link.close();
      await inputs?.close();
    },
  };
}
