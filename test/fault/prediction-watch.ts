/**
 * @module fault/prediction-watch
 * Polls an agent's /v1/predict for the whole length of a fault test and keeps every answer, so
 * the test can prove the device answered with a verified model at every moment: each 200 names a
 * model version, anything else is an error, and a refused connection is only acceptable while the
 * test has declared the agent down (killed, restarting).
 */
import { greyTensor } from '../support/fixtures.js';

export interface PredictionWatch {
  /** Versions of the 200 answers, in order. */
  versions: number[];
  /** Non-200 answers, and connection errors outside a declared outage. */
  errors: string[];
  /** Connection errors during declared outages. */
  refusedWhileDown: number;
  /** The agent is about to go away (e.g. kill -9): connection errors are expected until `up`. */
  down(): void;
  /** The agent is back, possibly on another port. */
  up(apiUrl: string): void;
  stop(): Promise<void>;
}

export function watchPredictions(apiUrl: string, everyMs = 25): PredictionWatch {
  let url = apiUrl;
  let isDown = false;
  let stopped = false;
  const watch: PredictionWatch = {
    versions: [],
    errors: [],
    refusedWhileDown: 0,
    down: () => {
      isDown = true;
    },
    up: (next) => {
      url = next;
      isDown = false;
    },
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
  const body = JSON.stringify(greyTensor(0.5));
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const wasDown = isDown;
      try {
        const res = await fetch(`${url}/v1/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': `watch-${i}` },
          body,
        });
        const json = (await res.json()) as { version?: number; error?: string };
        if (res.status === 200 && typeof json.version === 'number') watch.versions.push(json.version);
        else watch.errors.push(`HTTP ${res.status}: ${JSON.stringify(json)}`);
      } catch (err) {
        if (wasDown || isDown) watch.refusedWhileDown++;
        else watch.errors.push(`request failed while the agent should be up: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return watch;
}
