/**
 * @module monitoring/monitoring
 * On-device monitoring as one unit with start and stop: every committed record (served and
 * shadow) is folded into the local windows after the answer went out (never on the predict
 * path), the label-free detector runs on served records, the device rules are judged every few
 * seconds on device time, local alerts go to the log, /metrics, /v1/health and the fleet (durable
 * `alert` stream), input sampling is raised while one fires, and in bandwidth mode closed
 * windows go to the fleet as edge summaries (durable `summary` stream) instead of the records.
 *
 * Settings: the desired state's `monitoring` block when the fleet sent one, else the agent
 * config's (monitoring-config.ts). Fallback `flag` marks answers of a model version with a
 * firing alert (`drift: true`).
 *
 * After a restart, alerts that were firing are resolved first ("judged afresh") and fire again if
 * the data still says so, so the fleet never sees an alert stuck firing.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DeviceMonitoring, Manifest } from '@edgeloop/protocol';
import type { AgentOutbox } from '../outbox/agent-outbox.js';
import type { RetrainingSamples } from '../sampling/retraining-samples.js';
import type { AgentDb, KeyValue } from '../store/agent-db.js';
import type { NewRecord, RecordBuffer } from '../store/record-buffer.js';
import { catalogueMetric } from './catalogue-metric.js';
import { DeviceRules } from './device-rules.js';
import { EdgeSummaries } from './edge-summaries.js';
import { LocalAlerts, type FiringAlert } from './local-alerts.js';
import { LocalWindows, type WindowRecord } from './local-windows.js';
import { deviceRulesOf, type MonitoringConfig } from './monitoring-config.js';
import { MonitoringQueue } from './monitoring-queue.js';
import { AlertStream, SummaryStream, type QueuedAlert, type QueuedSummary } from './monitoring-streams.js';
import { BaselineDetectors } from './baseline-detectors.js';
import { versionSpecOf, type VersionSpec } from './version-spec.js';

/** Alerts and summaries waiting for the fleet at most (oldest go first). */
const MAX_QUEUED_ALERTS = 10_000;
const MAX_QUEUED_SUMMARIES = 20_000;
/** Served records remembered for reference values that arrive later. */
const MAX_REMEMBERED = 20_000;
const SUMMARY_FROM_KEY = 'monitoring.summaries.fromSeq';

export interface MonitoringDeps {
  config: MonitoringConfig;
  db: AgentDb;
  kv: KeyValue;
  stream: string;
  buffer: RecordBuffer;
  /** The manifests loaded now (serving and shadow slots) by model name. */
  manifests: (model: string) => Manifest[];
  sending: AgentOutbox;
  samples?: RetrainingSamples;
  registry: Registry;
  log: Logger;
}

export interface Monitoring {
  /** Telemetry records above this seq stay on the device (bandwidth mode); Infinity otherwise. */
  sendThrough(): number;
  /** Whether answers of this model version are flagged (fallback `flag` while an alert fires). */
  flagged(model: string, version: number): boolean;
  /** The desired state's block (undefined: back to the agent's config). */
  applyDesired(m: DeviceMonitoring | undefined): void;
  setConnected(connected: boolean): void;
  /** A reference value joined to a buffered record after it was committed. */
  onReference(seq: number, reference: number): void;
  health(): Record<string, unknown>;
  /** Folds what is queued and judges now (tests). */
  tick(): void;
  readonly alerts: LocalAlerts;
  readonly windows: LocalWindows;
  close(): void;
}

export function startMonitoring(deps: MonitoringDeps): Monitoring {
  const { config, kv, buffer, log: parentLog } = deps;
  const log = parentLog.child({ part: 'monitoring' });
  const specs = new Map<string, VersionSpec>();
  const specOf = (model: string, version: number): VersionSpec | undefined => {
    const manifest = deps.manifests(model).find((m) => m.version === version);
    if (!manifest) return undefined;
    const key = `${model}\u0000${version}\u0000${manifest.artifact.sha256}`;
    let spec = specs.get(key);
    if (!spec) specs.set(key, (spec = versionSpecOf(manifest)));
    return spec;
  };

  let settings: DeviceMonitoring = config.device;
  let fromFleet = false;
  let offlineSince: number | undefined = Date.now();

  const windows = new LocalWindows(specOf, config.windowMinutes);
  const alertQueue = new MonitoringQueue<QueuedAlert>(deps.db, 'local_alerts', MAX_QUEUED_ALERTS);
  const summaryQueue = new MonitoringQueue<QueuedSummary>(deps.db, 'edge_summaries', MAX_QUEUED_SUMMARIES);
  const { outbox } = deps.sending;
  outbox.add(new AlertStream(alertQueue, deps.stream, log), deps.sending.laneOptions(4));
  outbox.add(new SummaryStream(summaryQueue, deps.stream, log), deps.sending.laneOptions(2));
  alertQueue.onAdded = () => outbox.wake('alert');
  summaryQueue.onAdded = () => outbox.wake('summary');

  const alerts = new LocalAlerts(alertQueue, () => offlineSince, log, deps.registry, kv);
  const rules = new DeviceRules(windows, catalogueMetric, alerts, (rule, err) =>
    log.error({ rule, err: err.message }, 'device rule cannot be judged; fix its metric name'),
  );
  const detectors = new BaselineDetectors(specOf, alerts);
  let summaries: EdgeSummaries | undefined;
  let summariesFromSeq = Number(kv.get(SUMMARY_FROM_KEY) || NaN);
  let lastSeq = 0;

  const apply = (m: DeviceMonitoring) => {
    settings = m;
    rules.setRules(deviceRulesOf(m));
    detectors.configure(m.pageHinkley);
    if (summaries && m.summaries && summaries.windowMs !== m.summaryWindowMs) {
      // Another window length: what is open goes out as it is, the next windows use the new one.
      summaries.closeAll();
      summaries = undefined;
    }
    if (m.summaries && !summaries) {
      summaries = new EdgeSummaries(summaryQueue, m.summaryWindowMs, specOf);
      if (!Number.isFinite(summariesFromSeq)) {
        summariesFromSeq = lastSeq || lastRecordSeq(deps.db);
        kv.set(SUMMARY_FROM_KEY, String(summariesFromSeq));
      }
      log.info(
        { windowMs: m.summaryWindowMs, fromSeq: summariesFromSeq },
        'bandwidth mode: edge summaries instead of records',
      );
    } else if (!m.summaries && summaries) {
      endSummaries();
    } else if (!m.summaries && Number.isFinite(summariesFromSeq)) {
      // Bandwidth mode was on before a restart and is off now: its records were summarised then.
      endSummaries();
    }
  };
  const endSummaries = () => {
    summaries?.closeAll();
    summaries = undefined;
    // Summarised already: sent as records too, the fleet would count them twice.
    const through = lastSeq || lastRecordSeq(deps.db);
    if (through > summariesFromSeq) buffer.acknowledge(summariesFromSeq + 1, through);
    summariesFromSeq = NaN;
    kv.set(SUMMARY_FROM_KEY, '');
    outbox.wake('telemetry');
    log.info('bandwidth mode off: telemetry records are sent again');
  };
  apply(settings);

  // Served records, for reference values joined later.
  const remembered = new Map<number, Omit<WindowRecord, 'features'>>();
  let queued: Array<[number, NewRecord]> = [];
  let drainScheduled = false;
  const drain = () => {
    drainScheduled = false;
    const batch = queued;
    queued = [];
    for (const [seq, r] of batch) {
      if (seq > lastSeq) lastSeq = seq;
      const rec: WindowRecord = {
        ts: r.ts,
        model: r.model,
        version: r.version,
        features: r.features,
        prediction: r.prediction ?? null,
        reference: r.reference ?? null,
        ...(r.shadow ? { shadow: true } : {}),
      };
      windows.fold(rec);
      if (summaries && seq > summariesFromSeq) summaries.fold(rec);
      if (!r.shadow) {
        detectors.observe(rec);
        if (r.reference === null || r.reference === undefined) {
          remembered.set(seq, { ts: r.ts, model: r.model, version: r.version, prediction: r.prediction ?? null });
          if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!);
        }
      }
    }
  };
  // Only a push on the commit path: folding runs after the answers went out.
  const stopStored = buffer.onStored((seq, r) => {
    queued.push([seq, r]);
    if (!drainScheduled) {
      drainScheduled = true;
      setImmediate(drain);
    }
  });

  const evaluate = () => {
    try {
      drain();
      // Versions no longer loaded (an update replaced them): their windows go, their alerts resolve.
      windows.retain((model, version) => specOf(model, version) !== undefined);
      for (const a of alerts.firing())
        if (!specOf(a.model, a.version))
          alerts.change({ ...a, state: 'resolved', reason: `${a.model} v${a.version} is no longer served here` });
      rules.evaluate();
      summaries?.closeDue();
      const firing = alerts.firing();
      if (firing.length > 0 && deps.samples)
        deps.samples.captureLocally({
          until: Date.now() + config.captureForMs,
          everyN: config.captureEveryN,
          models: [...new Set(firing.map((a) => a.model))],
        });
    } catch (err) {
      log.error({ err: (err as Error).message }, 'monitoring round failed; continuing');
    }
  };
  alerts.onChange((change, firing) => {
    if (change.state === 'firing' && deps.samples)
      deps.samples.captureLocally({
        until: Date.now() + config.captureForMs,
        everyN: config.captureEveryN,
        models: [...new Set(firing.map((a) => a.model))],
      });
  });
  alerts.resolveLeftovers();
  const timer = setInterval(evaluate, config.evaluateEveryMs);
  timer.unref();

  const flaggedModels = new Map<string, boolean>();
  alerts.onChange((_c, firing: readonly FiringAlert[]) => {
    flaggedModels.clear();
    for (const a of firing) flaggedModels.set(`${a.model}\u0000${a.version}`, true);
  });

  return {
    alerts,
    windows,
    sendThrough: () => (summaries || Number.isFinite(summariesFromSeq) ? summariesFromSeq : Infinity),
    flagged: (model, version) =>
      settings.fallback !== 'none' && flaggedModels.size > 0 && flaggedModels.has(`${model}\u0000${version}`),
    applyDesired(m) {
      const next = m ?? config.device;
      if (JSON.stringify(next) === JSON.stringify(settings)) return;
      fromFleet = m !== undefined;
      apply(next);
    },
    setConnected(connected) {
      offlineSince = connected ? undefined : (offlineSince ?? Date.now());
    },
    onReference(seq, reference) {
      const rec = remembered.get(seq);
      if (!rec) return;
      remembered.delete(seq);
      windows.foldLateReference(rec, reference);
      if (summaries && seq > summariesFromSeq) summaries.lateReference(rec, reference);
    },
    health: () => ({
      settings: fromFleet ? 'fleet' : 'config',
      rules: deviceRulesOf(settings).map((r) => r.name),
      summaries: settings.summaries,
      fallback: settings.fallback,
      versions: windows
        .keys()
        .filter((k) => k.role === 'serving')
        .map(({ spec }) => ({
          model: spec.model,
          version: spec.version,
          baseline: spec.baseline !== undefined,
          pageHinkley: detectors.describe(spec),
        })),
      alerts: alerts.firing(),
      queued: { alerts: alertQueue.count(), summaries: summaryQueue.count() },
    }),
    tick: evaluate,
    close() {
      clearInterval(timer);
      stopStored();
      drain();
      summaries?.closeAll();
    },
  };
}

/** The last seq the records table handed out (acknowledged records are deleted, the counter stays). */
function lastRecordSeq(db: AgentDb): number {
  const row = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'records'").get();
  return row?.seq ?? 0;
}
