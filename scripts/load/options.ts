/**
 * @module load/options
 * The harness's settings, from `npm run load -- …` flags or a benchmark, checked up front so a
 * run never starts half-configured.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GENERATORS } from './record-generator.js';

export interface DeviceBehaviour {
  /** Records each device makes per second. */
  rate: number;
  /** The agent's sync settings (agent/src/config.ts defaults unless given). */
  flushMs: number;
  window: number;
  /** Batches holding every pending record (fewer than batchSize) unacknowledged, at most. */
  partialInFlight: number;
  batchSize: number;
  ackTimeoutMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  generator: string;
}

export interface LoadOptions extends DeviceBehaviour {
  devices: number;
  /** Seconds of steady sending, counted from the moment every device is online. */
  duration: number;
  instances: number;
  broker: 'embedded' | 'mosquitto';
  db: 'sqlite' | 'postgres';
  workers: number;
  /** CONNECTs in flight at once, over all workers (the server drops a login that waits over 10 s). */
  connectConcurrency: number;
  /** Seconds after all devices are online at which the server (instance 0) is killed and restarted. */
  restartAt: number | null;
  restartSignal: 'SIGKILL' | 'SIGTERM';
  /** Seconds between progress lines (0: none). */
  progressEvery: number;
  /** How long devices may take to connect, and the backlog to drain after the run, before giving up. */
  connectTimeoutS: number;
  drainTimeoutS: number;
  json: boolean;
  /** Directory keeping an enrolled fleet between runs (load/fleet-cache.ts), or null. */
  fleetCache: string | null;
}

export const USAGE = `usage: npm run load -- [options]
  --devices N          simulated devices (default 100)
  --rate R             records per second per device (default 1)
  --duration D         seconds of sending once all devices are online (default 30)
  --flush-ms MS        batch flush interval (agent default 200)
  --window N           unacknowledged batches per device (agent default 8)
  --partial-in-flight N  of those, batches that are not full (agent sync.partialBatchesInFlight, default 1)
  --batch-size N       records per batch at most (agent default 2000)
  --ack-timeout-ms MS  re-send after this without an ack (agent default 15000)
  --instances N        fleet server processes (default 1; >1 needs --broker mosquitto)
  --broker embedded|mosquitto   (default embedded)
  --db sqlite|postgres (default sqlite)
  --workers N          device processes (default: number of cores)
  --connect-concurrency N  connection attempts in flight at once, all workers together (default 64)
  --restart-at S       kill the server S seconds into the run and start it again on the same data
  --restart-signal SIGKILL|SIGTERM  (default SIGKILL)
  --generator NAME     record generator (${Object.keys(GENERATORS).join(', ')}; default distance)
  --progress S         seconds between progress lines (default 5, 0 = none)
  --fleet-cache DIR    keep the enrolled fleet in DIR and reuse it when it has enough devices
                       (one server, embedded broker, SQLite only)
  --json               print the final report as one JSON object on stdout`;

export const DEFAULTS: LoadOptions = {
  devices: 100,
  rate: 1,
  duration: 30,
  flushMs: 200,
  window: 8,
  partialInFlight: 1,
  batchSize: 2000,
  ackTimeoutMs: 15_000,
  backoffMinMs: 1000,
  backoffMaxMs: 60_000,
  reconnectMinMs: 1000,
  reconnectMaxMs: 60_000,
  generator: 'distance',
  instances: 1,
  broker: 'embedded',
  db: 'sqlite',
  workers: availableParallelism(),
  connectConcurrency: 64,
  restartAt: null,
  restartSignal: 'SIGKILL',
  progressEvery: 5,
  connectTimeoutS: 300,
  drainTimeoutS: 120,
  json: false,
  fleetCache: null,
};

function positive(name: string, text: string | undefined, fallback: number, integer = true): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`--${name} must be a positive ${integer ? 'whole ' : ''}number, got "${text}"`);
  return n;
}

function oneOf<T extends string>(name: string, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) throw new Error(`--${name} is one of ${allowed.join('|')}`);
  return text as T;
}

/** Checks combinations; throws with the reason. */
export function checkOptions(o: LoadOptions): LoadOptions {
  if (o.instances > 1 && o.broker !== 'mosquitto')
    throw new Error('--instances above 1 need --broker mosquitto: the embedded broker lives in one server');
  if (o.window > 64 || o.batchSize > 5000) throw new Error('--window is at most 64 and --batch-size at most 5000');
  if (!GENERATORS[o.generator]) throw new Error(`no record generator "${o.generator}"`);
  return o;
}

/** Returns null when --help was asked for. */
export function parseLoadArgs(argv: string[]): LoadOptions | null {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'flush-ms': { type: 'string' },
      window: { type: 'string' },
      'partial-in-flight': { type: 'string' },
      'batch-size': { type: 'string' },
      'ack-timeout-ms': { type: 'string' },
      instances: { type: 'string' },
      broker: { type: 'string' },
      db: { type: 'string' },
      workers: { type: 'string' },
      'connect-concurrency': { type: 'string' },
      'restart-at': { type: 'string' },
      'restart-signal': { type: 'string' },
      generator: { type: 'string' },
      progress: { type: 'string' },
      json: { type: 'boolean' },
      'fleet-cache': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return null;
  const d = DEFAULTS;
  return checkOptions({
    ...d,
    devices: positive('devices', v.devices, d.devices),
    rate: positive('rate', v.rate, d.rate, false),
    duration: positive('duration', v.duration, d.duration, false),
    flushMs: positive('flush-ms', v['flush-ms'], d.flushMs),
    window: positive('window', v.window, d.window),
    partialInFlight: positive('partial-in-flight', v['partial-in-flight'], d.partialInFlight),
    batchSize: positive('batch-size', v['batch-size'], d.batchSize),
    ackTimeoutMs: positive('ack-timeout-ms', v['ack-timeout-ms'], d.ackTimeoutMs),
    instances: positive('instances', v.instances, d.instances),
    broker: oneOf('broker', v.broker, ['embedded', 'mosquitto'] as const, d.broker),
    db: oneOf('db', v.db, ['sqlite', 'postgres'] as const, d.db),
    workers: positive('workers', v.workers, d.workers),
    connectConcurrency: positive('connect-concurrency', v['connect-concurrency'], d.connectConcurrency),
    restartAt: v['restart-at'] === undefined ? null : positive('restart-at', v['restart-at'], 0, false),
    restartSignal: oneOf('restart-signal', v['restart-signal'], ['SIGKILL', 'SIGTERM'] as const, d.restartSignal),
    generator: v.generator ?? d.generator,
    progressEvery: v.progress === undefined ? d.progressEvery : Number(v.progress) || 0,
    json: v.json ?? false,
    fleetCache: v['fleet-cache'] === undefined ? null : resolve(v['fleet-cache']),
  });
}
