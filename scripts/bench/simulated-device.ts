/**
 * @module bench/simulated-device
 * A lightweight stand-in for an agent, for fleet-scale benchmarks: a real MQTT client with the
 * device's enrolled credentials that announces itself (birth), subscribes to its desired state,
 * verifies the root-signed keyset, the signed desired state (signature, device, counter) and
 * each signed manifest with the protocol's verifiers,
 * downloads the artifact the normal way (HTTP with Basic auth, or MQTT fetch/chunk), checks size
 * and sha256, and reports downloading → active like an agent. No ONNX Runtime, no SQLite: a few
 * hundred KiB of memory per device, so 1,000 fit in one process.
 */
import { arch } from 'node:os';
import mqtt, { type MqttClient } from 'mqtt';
import {
  checkDesiredCounter,
  decodeSignedDesiredState,
  desiredStateDigest,
  deviceTopic,
  encodeMessage,
  manifestKeysOf,
  openDesiredState,
  peekDesiredKeyset,
  verifyArtifact,
  verifyKeyset,
  verifyManifest,
  type Birth,
  type DesiredModel,
  type DesiredState,
  type Manifest,
  type SignedEnvelope,
  type AcceptedDesiredState,
  type UpdateReport,
} from '@edgeloop/protocol';
import { MqttChunkClient, Throttle } from '@edgeloop/agent/testing';

export interface SimulatedDeviceOptions {
  deviceId: string;
  username: string;
  password: string;
  mqttUrl: string;
  /** keyid → root public key: what `fleet.trustedKeys` holds on a real device. */
  rootKeys: ReadonlyMap<string, Uint8Array>;
  transport: 'http' | 'mqtt';
  onActive?: (deviceId: string, model: string, version: number) => void;
  onError?: (deviceId: string, reason: string) => void;
  /** Verifications of byte-identical envelopes shared by the devices of one process (see VerifyCache). */
  cache?: VerifyCache;
}

/**
 * ed25519 verify used to cost ~30 ms of CPU here (tweetnacl; node:crypto now: well under 1 ms),
 * and a manifest's payload is hashed whole; 1,000 devices × (keyset + manifest) add up to CPU a
 * real fleet spends on 1,000 devices, not on one test box. Each device's desired state is its own
 * (device id, counter), so that signature is always checked per device. With a
 * cache, the first device of a process runs the protocol's verifiers on an envelope and the
 * others reuse that verdict for the byte-identical envelope (same payload, same signatures).
 * `EDGELOOP_BENCH_VERIFY=each` turns it off (every device verifies by itself).
 */
export class VerifyCache {
  private readonly verdicts = new Map<string, unknown>();
  hits = 0;
  misses = 0;

  get<T>(key: string, verify: () => T): T {
    if (this.verdicts.has(key)) {
      this.hits++;
      return this.verdicts.get(key) as T;
    }
    this.misses++;
    const verdict = verify();
    this.verdicts.set(key, verdict);
    return verdict;
  }
}

const envelopeKey = (kind: string, e: { payload: string; signatures: unknown }) =>
  `${kind}\u0000${e.payload}\u0000${JSON.stringify(e.signatures)}`;

const MQTT_RANGE_BYTES = 256 * 1024;
/** A simulated device connects once, so its birth and every update report carry the same session number. */
const SESSION = 1;

export class SimulatedDevice {
  private client: MqttClient | undefined;
  private reportSeq = 0;
  private accepted: AcceptedDesiredState | undefined;
  private readonly active = new Map<string, { version: number; sha256: string }>();
  private work: Promise<void> = Promise.resolve();
  private chunks: MqttChunkClient | undefined;

  constructor(private readonly opts: SimulatedDeviceOptions) {}

  async start(): Promise<void> {
    const { deviceId } = this.opts;
    const client = await mqtt.connectAsync(this.opts.mqttUrl, {
      clientId: deviceId,
      username: this.opts.username,
      password: this.opts.password,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 30_000,
      keepalive: 60,
    });
    this.client = client;
    this.chunks = new MqttChunkClient((req) =>
      client.publishAsync(deviceTopic(deviceId, 'fetch'), encodeMessage(req), { qos: 1 }).then(() => undefined),
    );
    client.on('message', (topic, payload) => {
      if (topic.endsWith('/chunk')) return this.chunks!.handle(payload);
      if (payload.length === 0) return;
      const signed = decodeSignedDesiredState(payload);
      if (!signed.ok) return this.opts.onError?.(deviceId, `desired state refused (${signed.code}): ${signed.reason}`);
      this.work = this.work
        .then(() => this.admit(signed.value))
        .catch((err: Error) => this.opts.onError?.(deviceId, err.message));
    });
    const topics = [
      deviceTopic(deviceId, 'desired'),
      ...(this.opts.transport === 'mqtt' ? [deviceTopic(deviceId, 'chunk')] : []),
    ];
    await client.subscribeAsync(topics, { qos: 1 });
    this.chunks.setConnected(true);
    await client.publishAsync(deviceTopic(deviceId, 'presence'), encodeMessage(this.birth()), { qos: 1, retain: true });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }

  private birth(): Birth {
    return {
      v: 1,
      type: 'birth',
      deviceId: this.opts.deviceId,
      session: SESSION,
      ts: Date.now(),
      agentVersion: 'simulated',
      arch: arch(),
      platform: 'linux',
      cpus: 1,
      memTotalMb: 1,
      runtime: { name: 'none', version: '0' },
      models: [],
      stream: `sim${this.opts.deviceId.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 64),
      backlog: 0,
    };
  }

  /** As the agent's desired-gate: keyset, signature, device, counter; the same state again is applied again. */
  private async admit(envelope: SignedEnvelope): Promise<void> {
    const keys = peekDesiredKeyset(envelope) as SignedEnvelope;
    const check = () => verifyKeyset(keys, { rootKeys: this.opts.rootKeys });
    const keyset = this.opts.cache && keys?.payload ? this.opts.cache.get(envelopeKey('keyset', keys), check) : check();
    if (!keyset.ok) throw new Error(`desired state refused: keyset ${keyset.code}: ${keyset.reason}`);
    const trustedKeys = manifestKeysOf(keyset.value);
    const opened = openDesiredState(envelope, trustedKeys, this.opts.deviceId);
    if (!opened.ok) throw new Error(`desired state refused (${opened.code}): ${opened.reason}`);
    const digest = desiredStateDigest(envelope);
    const counter = checkDesiredCounter(opened.value.counter, digest, this.accepted);
    if (!counter.ok) throw new Error(`desired state refused (${counter.code}): ${counter.reason}`);
    this.accepted = { counter: opened.value.counter, digest };
    await this.apply(opened.value, trustedKeys);
  }

  private async apply(desired: DesiredState, trustedKeys: ReadonlyMap<string, Uint8Array>): Promise<void> {
    for (const entry of desired.models) {
      if (entry.role === 'shadow') continue;
      const check = () => verifyManifest(entry.manifest, { trustedKeys, arch: arch() });
      const verdict = this.opts.cache
        ? this.opts.cache.get(envelopeKey(`manifest:${[...trustedKeys.keys()].join(',')}`, entry.manifest), check)
        : check();
      if (!verdict.ok) throw new Error(`manifest refused (${verdict.code}): ${verdict.reason}`);
      const m = verdict.value;
      const current = this.active.get(m.name);
      if (current && current.version === m.version && current.sha256 === m.artifact.sha256) continue;
      if (current && m.version < current.version) throw new Error(`rollback to v${m.version} refused`);
      await this.report(m, 'downloading');
      const bytes = await this.download(entry, m);
      const integrity = verifyArtifact(m.artifact, bytes);
      if (!integrity.ok) {
        await this.report(m, 'rejected', integrity.code, integrity.reason);
        throw new Error(integrity.reason);
      }
      this.active.set(m.name, { version: m.version, sha256: m.artifact.sha256 });
      await this.report(m, 'active');
      this.opts.onActive?.(this.opts.deviceId, m.name, m.version);
    }
  }

  private async download(entry: DesiredModel, m: Manifest): Promise<Uint8Array> {
    if (this.opts.transport === 'mqtt') {
      const parts: Uint8Array[] = [];
      const throttle = new Throttle(0);
      for (let start = 0; start < m.artifact.size; start += MQTT_RANGE_BYTES) {
        const end = Math.min(start + MQTT_RANGE_BYTES, m.artifact.size) - 1;
        const answer = await this.chunks!.fetch(m.artifact, start, end, { requestTimeoutMs: 120_000, throttle });
        if (answer.kind !== 'range' || !answer.complete) throw new Error(`range ${start}-${end} incomplete over MQTT`);
        parts.push(answer.bytes);
      }
      return Buffer.concat(parts);
    }
    const auth = `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password}`).toString('base64')}`;
    const res = await fetch(entry.artifactUrl, { headers: { authorization: auth } });
    if (res.status !== 200) throw new Error(`artifact download answered HTTP ${res.status}: ${await res.text()}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > m.artifact.size)
      throw new Error(`server offers ${declared} bytes, the manifest signed ${m.artifact.size}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  private async report(
    m: Pick<Manifest, 'name' | 'version'>,
    state: UpdateReport['state'],
    code?: string,
    reason?: string,
  ): Promise<void> {
    const report: UpdateReport = {
      v: 1,
      model: m.name,
      version: m.version,
      state,
      ts: Date.now(),
      session: SESSION,
      reportSeq: ++this.reportSeq,
      ...(code ? { code } : {}),
      ...(reason ? { reason: reason.slice(0, 2000) } : {}),
    };
    await this.client!.publishAsync(deviceTopic(this.opts.deviceId, 'update'), encodeMessage(report), { qos: 1 });
  }
}
