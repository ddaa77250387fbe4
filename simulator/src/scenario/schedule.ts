/**
 * @module scenario/schedule
 * Phases that advance on command instead of on the scenario's timers: a harness that waits for
 * the fleet to heal before it changes the world (the retraining loop's evaluation) cannot know
 * in advance how long each phase lasts.
 *
 * A schedule starts in one of the scenario's phases and records every switch as (simulated
 * second, phase). The world at time t depends only on that record, so frames stay reproducible:
 * the same seed and the same switch times give the same images and readings, whatever the wall
 * clock did. A switch takes a phase's own settings (as the scenario file resolves them) and
 * blends in from the phase before over the phase's transition, as a timed scenario would.
 */
import type { Phase, Scenario } from './load.js';
import { blendSettings, type PhaseAt } from './timeline.js';

export interface PhaseSwitch {
  /** Simulated seconds since the cameras started. */
  at: number;
  phase: string;
}

export class PhaseSchedule {
  private readonly switches: Array<{ at: number; phase: Phase }> = [];

  constructor(
    readonly scenario: Scenario,
    initial: string = scenario.phases[0]!.name,
  ) {
    this.switches.push({ at: 0, phase: this.find(initial) });
  }

  /** The phase on now, and when it was switched on. */
  get current(): PhaseSwitch {
    const last = this.switches.at(-1)!;
    return { at: last.at, phase: last.phase.name };
  }

  /** Every switch so far, the initial phase first (at 0): with the seed, what reproduces a run. */
  history(): PhaseSwitch[] {
    return this.switches.map((s) => ({ at: s.at, phase: s.phase.name }));
  }

  /**
   * Switches to `name` from simulated second `at` on. Switches only move forwards: `at` must not
   * be before the last one (frames already drawn must keep the world they showed).
   */
  switchTo(name: string, at: number): PhaseSwitch {
    const phase = this.find(name);
    const last = this.switches.at(-1)!;
    if (!(at >= last.at) || !Number.isFinite(at))
      throw new RangeError(
        `a phase switch must not go back in time: asked for ${at} s, the last switch was at ${last.at} s`,
      );
    this.switches.push({ at, phase });
    return { at, phase: phase.name };
  }

  /** The world at simulated second t: the phase switched on last at or before t. */
  at(t: number): PhaseAt {
    let i = this.switches.length - 1;
    while (i > 0 && this.switches[i]!.at > t) i--;
    const { at, phase } = this.switches[i]!;
    const previous = i > 0 ? this.switches[i - 1]!.phase : undefined;
    if (!previous || phase.blendSeconds === 0) return { phase, settings: phase.settings, blend: 1 };
    const w = Math.min(1, Math.max(0, (t - at) / phase.blendSeconds));
    if (w >= 1) return { phase, settings: phase.settings, blend: 1 };
    return { phase, settings: blendSettings(previous.settings, phase.settings, w), blend: w };
  }

  private find(name: string): Phase {
    const phase = this.scenario.phases.find((p) => p.name === name);
    if (!phase)
      throw new RangeError(
        `scenario "${this.scenario.name}" has no phase "${name}"; its phases are ${this.scenario.phases.map((p) => p.name).join(', ')}`,
      );
    return phase;
  }
}
