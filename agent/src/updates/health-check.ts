/**
 * @module updates/health-check
 * Runs a loaded (not yet serving) model on the manifest's golden inputs and compares the outputs
 * with the golden ones. A model that loads and warms up can still be wrong: a bad export, a
 * quantisation that broke it, an ONNX Runtime build that computes something else on this device.
 * Checking before the swap means the previous model never stops serving for a bad one.
 */
import { fail, ok, type HealthCheck, type Result } from '@edgeloop/protocol';
import { makeTensor, tensorToNumbers, type ModelRunner, type TensorData } from '../runtime/model-runner.js';

export type HealthCheckFailure = 'health-check-failed';

/** ok when there is nothing to check or every expected output is finite and within tolerance. */
export async function runHealthCheck(
  runner: ModelRunner,
  check: HealthCheck | undefined,
): Promise<Result<string, HealthCheckFailure>> {
  if (!check) return ok('no health check in the manifest');
  const { manifest } = runner;
  const feeds: Record<string, TensorData> = {};
  for (const spec of manifest.inputs) {
    const golden = check.inputs[spec.name];
    if (!golden)
      return fail(
        'health-check-failed',
        `the health check has no golden data for input "${spec.name}"; re-register the model with a complete healthCheck`,
      );
    feeds[spec.name] = makeTensor(spec.dtype, golden.data, golden.shape);
  }

  let outputs: Record<string, TensorData>;
  try {
    outputs = await runner.run(feeds);
  } catch (err) {
    return fail('health-check-failed', `the model threw on the golden input: ${(err as Error).message}`);
  }

  // Non-finite values in any declared output are a failure, golden or not.
  for (const spec of manifest.outputs) {
    const tensor = outputs[spec.name];
    if (!tensor) continue;
    const values = tensorToNumbers(tensor);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      return fail('health-check-failed', `output "${spec.name}"[${bad}] is ${values[bad]} on the golden input`);
  }

  let checked = 0;
  for (const [name, expected] of Object.entries(check.outputs)) {
    const tensor = outputs[name];
    if (!tensor)
      return fail(
        'health-check-failed',
        `the model produced no output "${name}" (it produced ${Object.keys(outputs).join(', ')})`,
      );
    const actual = tensorToNumbers(tensor);
    if (actual.length !== expected.data.length) {
      return fail(
        'health-check-failed',
        `output "${name}" has ${actual.length} values, the golden output has ${expected.data.length}`,
      );
    }
    let worst = 0;
    for (let i = 1; i < actual.length; i++) {
      if (Math.abs(actual[i]! - expected.data[i]!) > Math.abs(actual[worst]! - expected.data[worst]!)) worst = i;
    }
    const diff = Math.abs(actual[worst]! - expected.data[worst]!);
    if (!(diff <= check.tolerance)) {
      return fail(
        'health-check-failed',
        `output "${name}"[${worst}] is ${actual[worst]}, the golden value is ${expected.data[worst]}: off by ${diff} (tolerance ${check.tolerance})`,
      );
    }
    checked += actual.length;
  }
  return ok(`${checked} golden output values within ±${check.tolerance}`);
}
