/**
 * @module support/loop-client
 * The REST calls a retraining-loop test makes, through the typed client (every answer checked
 * against the REST contract): waiting for a loop run to end, a run's step by name, the versions
 * the registry holds.
 */
import { createRestClient } from '@edgeloop/protocol/client';
import type { LoopRun, LoopStep } from '@edgeloop/protocol/rest';
import { waitFor } from './fixtures.js';
import type { TestFleet } from './in-process-fleet.js';

export type LoopTestClient = ReturnType<typeof createRestClient>;

/** The typed client of a test fleet, as admin. */
export const loopClient = (h: Pick<TestFleet, 'server' | 'adminToken'>): LoopTestClient =>
  createRestClient({ baseUrl: h.server.httpUrl, headers: { authorization: `Bearer ${h.adminToken}` } });

/** The run once it is no longer running (polled every half second). */
export function loopRunEnded(api: LoopTestClient, id: string, timeoutMs: number): Promise<LoopRun> {
  return waitFor(
    `loop run ${id} to end`,
    async () => {
      const { run } = await api.getLoopRun({ params: { id } });
      return run.state === 'running' ? undefined : run;
    },
    timeoutMs,
    500,
  );
}

export const stepNamed = (run: LoopRun, name: LoopStep['name']): LoopStep => run.steps.find((s) => s.name === name)!;

/** Versions of `model` the registry holds, ascending. */
export async function versionsOf(api: LoopTestClient, model: string): Promise<number[]> {
  return (await api.listModels()).models
    .filter((m) => m.name === model)
    .map((m) => m.version)
    .sort((a, b) => a - b);
}
