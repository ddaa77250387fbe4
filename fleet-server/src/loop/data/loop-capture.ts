/**
 * @module loop/data/loop-capture
 * The loop's capture window: when recent samples are short, the source devices are asked to keep
 * every Nth input of the model (reason "capture") and to upload what they keep, the same two
 * requests POST /devices/{id}/samples/capture stores and the same signed desired state carries:
 *
 * - `sampleCapture` {until, everyN, models}: the agent keeps inputs. It honours it only with
 *   sampling.captureOnRequest on in its config (off by default); otherwise it logs that it refuses.
 * - `sampleUploadUntil`: an agent with sampling.upload "on-request" (the default) sends kept
 *   samples only before this time; "with-sync" agents send them whenever connected anyway.
 *   It runs past the window by CAPTURE_UPLOAD_GRACE_MS, so the last inputs kept still arrive.
 *
 * A window already open on a device (an operator's, an earlier run's) is widened, never narrowed:
 * the later end, the denser everyN, and the union of the models (all, when either names none).
 */
import type { SampleCapture } from '@edgeloop/protocol';
import type { Deployments } from '../../deploy/deployments.js';
import { RegistryError } from '../../registry/model-registry.js';
import type { SampleStore } from '../../samples/sample-store.js';
import type { FleetStore } from '../../store/fleet-store.js';

/** Samples kept at the end of a capture window still get this long to reach the fleet (as the REST route). */
export const CAPTURE_UPLOAD_GRACE_MS = 15 * 60_000;

export interface LoopCaptureDeps {
  store: FleetStore;
  /** The capture and upload requests per device (what the desired state is built from). */
  samples: Pick<SampleStore, 'capture' | 'setCapture' | 'uploadUntil' | 'setUploadUntil'>;
  /** Signs and publishes the devices' desired states with the new requests. */
  deployments: Pick<Deployments, 'republish'>;
  now: () => number;
}

export interface CaptureSpec {
  model: string;
  /** These devices; undefined: every enabled device the model is assigned to (serving or shadow). */
  devices?: readonly string[] | undefined;
  /** Keep every Nth input (1: all). */
  everyN: number;
  /** End of the window, ms since the epoch (in the future). */
  until: number;
}

export interface CaptureOutcome {
  /** Devices the window was opened on (their desired states were published). */
  devices: string[];
  /** Named devices the fleet does not know: nothing was asked of them. */
  unknown: string[];
  /** The window as asked for; a device's may be wider where one was open already. */
  capture: SampleCapture;
  /** Upload requested until at least this time. */
  uploadUntil: number;
}

/** Opens the capture window on the devices and publishes their desired states. */
export async function openCapture(deps: LoopCaptureDeps, spec: CaptureSpec): Promise<CaptureOutcome> {
  const now = deps.now();
  if (!Number.isInteger(spec.everyN) || spec.everyN < 1 || spec.everyN > 100_000)
    throw new RegistryError(400, `everyN must be a whole number from 1 to 100000, not ${spec.everyN}`);
  if (!Number.isFinite(spec.until) || spec.until <= now)
    throw new RegistryError(
      400,
      `the capture window ends at ${spec.until}, which is not after now (${now}); give a later until`,
    );
  if ((await deps.store.models.latestVersion(spec.model)) === 0)
    throw new RegistryError(404, `no model named "${spec.model}" is registered (edgeloop models list)`);

  const { devices, unknown } = await targets(deps.store, spec);
  const capture: SampleCapture = { until: Math.round(spec.until), everyN: spec.everyN, models: [spec.model] };
  const uploadUntil = capture.until + CAPTURE_UPLOAD_GRACE_MS;
  for (const deviceId of devices) {
    const open = await deps.samples.capture(deviceId);
    await deps.samples.setCapture(deviceId, widen(open && open.until > now ? open : undefined, capture));
    const asked = (await deps.samples.uploadUntil(deviceId)) ?? 0;
    if (asked < uploadUntil) await deps.samples.setUploadUntil(deviceId, uploadUntil);
  }
  if (devices.length > 0) await deps.deployments.republish(devices);
  return { devices, unknown, capture, uploadUntil };
}

/** The open window and the new one as one: nothing an open window asked for is taken back. */
export function widen(open: SampleCapture | undefined, next: SampleCapture): SampleCapture {
  if (!open) return next;
  const union = open.models && next.models ? [...new Set([...open.models, ...next.models])] : undefined;
  // More models than a window may name: capture them all rather than drop one.
  const models = union && union.length <= 16 ? union : undefined;
  return {
    until: Math.max(open.until, next.until),
    everyN: Math.min(open.everyN, next.everyN),
    ...(models ? { models } : {}),
  };
}

async function targets(store: FleetStore, spec: CaptureSpec): Promise<{ devices: string[]; unknown: string[] }> {
  if (spec.devices !== undefined) {
    const known = await store.devices.getMany(spec.devices);
    const ids = [...new Set(spec.devices)];
    return { devices: ids.filter((d) => known.has(d)), unknown: ids.filter((d) => !known.has(d)) };
  }
  const enabled = await store.devices.select({ all: true });
  const serving = await store.assignments.forDevices(spec.model, enabled);
  const shadowing = await store.shadows.forDevices(spec.model, enabled);
  return { devices: enabled.filter((d) => serving.has(d) || shadowing.has(d)), unknown: [] };
}
