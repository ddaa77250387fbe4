/**
 * @module updates/desired-gate
 * Decides whether a message on the `desired` topic may be applied. It must be a desired state
 * signed by the fleet (protocol/src/desired-state.ts): the keyset it carries verifies against the
 * device's root keys and is not older than the one held, the envelope is signed by a key of that
 * keyset, it names this device, and its counter is above the last one accepted here (kv
 * `desired.accepted`, so a restart does not reopen the door to a replay). The very same state
 * again — the retained copy after every reconnect — is applied again without complaint, which is
 * how an interrupted download resumes.
 *
 * A refused state changes nothing: the models that serve keep serving. The refusal is logged
 * with its reason and counted (agent /metrics), never reported per model, since nothing in an
 * unverified state can be believed, not even which models it names.
 */
import type { Logger } from 'pino';
import {
  checkDesiredCounter,
  decodeSignedDesiredState,
  desiredStateDigest,
  openDesiredState,
  peekDesiredKeyset,
  type AcceptedDesiredState,
  type DesiredState,
  type DesiredStateRejection,
} from '@edgeloop/protocol';
import type { KeyValue } from '../store/agent-db.js';
import type { TrustStore } from './trust-store.js';

const KV_KEY = 'desired.accepted';

export interface DesiredGateDeps {
  deviceId: string;
  trust: TrustStore;
  kv: KeyValue;
  log: Logger;
  /** Counts refusals by code (agent metrics). */
  onRefused?: (code: DesiredStateRejection) => void;
}

export class DesiredStateGate {
  constructor(private readonly deps: DesiredGateDeps) {}

  /** The verified state to apply, or undefined when it is refused (logged and counted). */
  admit(payload: Uint8Array): DesiredState | undefined {
    const decoded = decodeSignedDesiredState(payload);
    if (!decoded.ok) return this.refuse(decoded.code, decoded.reason);
    const envelope = decoded.value;
    const keyset = this.deps.trust.check(peekDesiredKeyset(envelope));
    if (!keyset.ok)
      return this.refuse('bad-keyset', `the keyset it carries is refused (${keyset.code}): ${keyset.reason}`);
    const opened = openDesiredState(envelope, keyset.keys, this.deps.deviceId);
    if (!opened.ok) return this.refuse(opened.code, opened.reason);
    const state = opened.value;
    const digest = desiredStateDigest(envelope);
    const counter = checkDesiredCounter(state.counter, digest, this.lastAccepted());
    if (!counter.ok) return this.refuse(counter.code, counter.reason);
    if (counter.value === 'new') {
      const accepted: AcceptedDesiredState = { counter: state.counter, digest };
      this.deps.kv.set(KV_KEY, JSON.stringify(accepted));
      this.deps.log.debug({ counter: state.counter, models: state.models.length }, 'accepted a desired state');
    }
    return state;
  }

  private lastAccepted(): AcceptedDesiredState | undefined {
    const text = this.deps.kv.get(KV_KEY);
    if (!text) return undefined;
    try {
      const value = JSON.parse(text) as Partial<AcceptedDesiredState>;
      if (Number.isSafeInteger(value.counter) && typeof value.digest === 'string')
        return { counter: value.counter!, digest: value.digest };
    } catch {
      // fall through
    }
    // A damaged record must not open the door to replays: nothing older than now-ish is taken.
    this.deps.log.warn(
      { stored: text.slice(0, 200) },
      'the stored desired-state counter is unreadable; only states issued from now on are accepted',
    );
    return { counter: Date.now(), digest: '' };
  }

  private refuse(code: DesiredStateRejection, reason: string): undefined {
    this.deps.onRefused?.(code);
    this.deps.log.warn({ code, reason }, 'refused desired state; the models in use keep serving');
    return undefined;
  }
}
