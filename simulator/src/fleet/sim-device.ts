/**
 * @module fleet/sim-device
 * One simulated car: its camera posts a rendered frame to the device's agent (local HTTP predict
 * API) at the scenario's frame rate, and its time-of-flight sensor publishes the reading for the
 * same moment, `{"mm": …, "ts": …}`, on the sensor's own MQTT topic, as a sensor bridge would.
 * The agent knows nothing of the simulator: it joins the reading to the prediction through its
 * ordinary reference binding.
 *
 * Frame k shows the scenario at t = k / fps; frame k's image and reading depend only on the
 * seed, the device's index and k, so a run is reproducible. Frames are paced by the wall clock,
 * `timeScale` times faster than the scenario's own clock when time is compressed: the frame and
 * its reading are then stamped with simulated time (the predict request's capture time, the
 * reading's `ts`), so windows, joins and detection latencies all count in simulated seconds.
 * A device that falls behind catches up back to back, as a camera drains its few frame buffers;
 * once it is more than CAMERA_BUFFERS frames behind, the oldest are lost and it skips ahead,
 * counting what it skipped.
 */
import type { MqttClient } from 'mqtt';
import { hashInts, mulberry32 } from '../rng.js';
import { renderFrame, type SceneParams } from '../scene/render.js';
import type { Scenario } from '../scenario/load.js';
import type { PhaseSchedule } from '../scenario/schedule.js';
import { SceneSampler } from '../scenario/sample.js';
import { reading } from '../sensor/tof.js';
import { FramePoster } from './frame-poster.js';

/** Frames a camera holds for a slow reader (V4L2's usual buffer count). */
export const CAMERA_BUFFERS = 4;

export interface SimDeviceStats {
  /** Frames posted and answered 200. */
  predicted: number;
  /** Frames posted and refused (no model yet, agent busy) or not delivered. */
  failed: number;
  /** Frames lost because the device was more than CAMERA_BUFFERS frames behind. */
  skipped: number;
  /** ToF readings published. */
  readings: number;
  /** Milliseconds spent on frames (render, publish, predict round trip), summed and the longest. */
  busyMs: number;
  slowestMs: number;
  /** The last refusal's status and reason, for the operator. */
  lastError?: string;
}

/** What a frame showed and what the agent answered (prediction and model version when it served). */
export interface SimFrame {
  k: number;
  phase: string;
  trueMm: number;
  readingMm: number;
  prediction?: number;
  version?: number;
}

export interface SimDeviceOptions {
  deviceId: string;
  /** Position in the fleet: seeds the device and staggers its frames against the others'. */
  index: number;
  devices: number;
  scenario: Scenario;
  /** On-demand phases shared by the fleet (default: the scenario's timeline). */
  schedule?: PhaseSchedule;
  seed: number;
  apiUrl: string;
  sensor: MqttClient;
  sensorTopic: string;
  /** Draws and encodes a frame (default renderFrame on this thread; a RenderPool's off it). */
  render?: (params: SceneParams) => Promise<Buffer>;
  width?: number;
  height?: number;
  /** What the device's last frame showed: for status lines and live checks. */
  onFrame?: (frame: SimFrame) => void;
  /** Simulated seconds per wall second (default 1). */
  timeScale?: number;
}

export class SimDevice {
  readonly stats: SimDeviceStats = { predicted: 0, failed: 0, skipped: 0, readings: 0, busyMs: 0, slowestMs: 0 };
  private readonly sampler: SceneSampler;
  private readonly poster: FramePoster;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: SimDeviceOptions) {
    this.poster = new FramePoster(o.apiUrl);
    this.sampler = new SceneSampler(o.scenario, {
      seed: hashInts(o.seed, o.index),
      ...(o.schedule ? { schedule: o.schedule } : {}),
      ...(o.width !== undefined ? { width: o.width } : {}),
      ...(o.height !== undefined ? { height: o.height } : {}),
    });
  }

  get deviceId(): string {
    return this.o.deviceId;
  }

  /**
   * Starts the camera at wall time `t0` (ms), shared by the fleet so phases change together;
   * `simEpoch`: the epoch ms of simulated time 0 when time is compressed.
   */
  start(t0: number, simEpoch?: number): void {
    this.loop ??= this.run(t0, simEpoch);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    this.poster.close();
  }

  private async run(t0: number, simEpoch: number | undefined): Promise<void> {
    const scale = this.o.timeScale ?? 1;
    // Simulated ms between frames, and wall ms.
    const simPeriod = 1000 / this.o.scenario.fps;
    const period = simPeriod / scale;
    // Devices take their frames at evenly spread offsets, so rendering load is smooth.
    const offset = (this.o.index / this.o.devices) * simPeriod;
    for (let k = 0; !this.stopped; k++) {
      const due = t0 + (offset + k * simPeriod) / scale;
      const late = Date.now() - due;
      if (late > CAMERA_BUFFERS * period) {
        const lost = Math.floor(late / period) - CAMERA_BUFFERS + 1;
        this.stats.skipped += lost;
        k += lost;
      } else if (late < 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, -late);
        });
        if (this.stopped) break;
      }
      const began = performance.now();
      await this.frame(k, simEpoch === undefined ? Date.now() : Math.round(simEpoch + offset + k * simPeriod));
      const took = performance.now() - began;
      this.stats.busyMs += took;
      if (took > this.stats.slowestMs) this.stats.slowestMs = took;
    }
  }

  /** `ts`: when the frame is taken (wall time, or its simulated time when time is compressed). */
  private async frame(k: number, ts: number): Promise<void> {
    const scene = this.sampler.at(k / this.o.scenario.fps);
    const jpeg = await (this.o.render ?? renderFrame)(scene.params);
    const mm = reading(scene.trueMm, mulberry32(hashInts(this.o.seed, this.o.index, k, 0x746f66)), {
      angleDeg: scene.params.angleDeg ?? 0,
    });
    // The moment the frame is taken is also when the sensor measured. The reading is at the
    // broker before the frame goes to the agent, so it waits there when the prediction is
    // stored and is the nearest one (the next frame's comes only after this answer).
    try {
      await this.o.sensor.publishAsync(this.o.sensorTopic, JSON.stringify({ mm, ts }), { qos: 1 });
      this.stats.readings++;
    } catch (err) {
      this.stats.lastError = `sensor: ${(err as Error).message}`;
    }
    let answer: { prediction?: number; version?: number } = {};
    try {
      const res = await this.poster.post(jpeg, `${this.o.deviceId}-${k}`, ts);
      if (res.status === 200) {
        this.stats.predicted++;
        answer = answerOf(res.body);
      } else {
        this.stats.failed++;
        this.stats.lastError = `${res.status} ${res.body.slice(0, 200)}`;
      }
    } catch (err) {
      this.stats.failed++;
      this.stats.lastError = (err as Error).message;
    }
    this.o.onFrame?.({
      k,
      phase: scene.phase,
      trueMm: scene.trueMm,
      readingMm: mm,
      ...answer,
    });
  }
}

/** The prediction (null for a model whose output has none) and the model version of an answer. */
function answerOf(body: string): { prediction?: number; version?: number } {
  try {
    const { prediction, version } = JSON.parse(body) as { prediction?: unknown; version?: unknown };
    return {
      ...(typeof prediction === 'number' ? { prediction } : {}),
      ...(typeof version === 'number' ? { version } : {}),
    };
  } catch {
    return {};
  }
}
