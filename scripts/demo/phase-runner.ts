/**
 * @module demo/phase-runner
 * One drift phase of the demo, with nobody at the keyboard: switch the world, then only watch
 * the fleet through its REST API — the incident the drift opens, the loop run it starts, the
 * version that run registers reaching every car — and measure: MAE before (the serving version
 * on the drifted world), MAE after (the new version once every car runs it), time to detect and
 * time to recover (simulated seconds from the onset). The phase ends once the run has healed
 * (incident resolved) or its time is up; the next phase continues from this world and model.
 */
import type { IncidentView, LoopRun } from '@edgeloop/protocol/rest';
import type { SimulatedFleet } from '@edgeloop/simulator/fleet';
import type { DemoPhase } from './demo-plan.js';
import type { OtherRun, PhaseOutcome, PhaseResult } from './demo-result.js';
import type { FleetReads } from './fleet-reads.js';
import type { FrameMeter } from './frame-meter.js';

export interface PhaseTimings {
  /** Simulated seconds of the new version on every car over which MAE after is measured. */
  afterSeconds: number;
  /** Phase 5: simulated seconds on the beige floor before it turns red. */
  preOnsetSeconds: number;
  /** Simulated seconds from the onset after which the demo gives up on a phase. */
  phaseTimeoutSeconds: number;
  /** Simulated seconds to wait, after MAE after, for the loop run to finish (the incident to resolve). */
  healSeconds: number;
}

export interface PhaseContext {
  sim: SimulatedFleet;
  reads: FleetReads;
  deviceIds: readonly string[];
  meter: FrameMeter;
  /** The version every car serves now. */
  serving: number;
  timings: PhaseTimings;
  say: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FINISHED = new Set(['succeeded', 'rejected', 'rolled-back', 'failed', 'cancelled']);

const other = (r: LoopRun, when: OtherRun['when']): OtherRun => ({
  id: r.id,
  rule: r.trigger.rule,
  champion: r.champion,
  state: r.state,
  reason: r.reason,
  when,
});

/** Waits until simulated second `t`, saying where the fleet is every few seconds. */
async function untilSimSecond(ctx: PhaseContext, t: number, status: () => string): Promise<void> {
  let lastSay = Date.now();
  while (ctx.sim.clock().t < t) {
    await sleep(250);
    if (Date.now() - lastSay >= 5000) {
      lastSay = Date.now();
      ctx.say(status());
    }
  }
}

/** Live MAE of the last 10 simulated seconds as the cars' frames show it. */
function recentMae(ctx: PhaseContext): string {
  const t = ctx.sim.clock().t;
  const { mae } = ctx.meter.mae(t - 10 - ctx.meter.bucketSeconds, t);
  return mae === null ? 'live MAE —' : `live MAE ${mae.toFixed(1)} mm`;
}

/**
 * Waits (at most `seconds` simulated) until no loop run of the model is running: the world
 * changes only once the fleet is quiet, so a run started by an earlier incident (or a false
 * alarm) cannot take the next drift's place. Returns the runs it waited for.
 */
export async function waitForIdleLoop(ctx: PhaseContext, seconds: number, label: string): Promise<LoopRun[]> {
  const waited = new Map<string, LoopRun>();
  const until = ctx.sim.clock().t + seconds;
  let lastSay = 0;
  for (;;) {
    const running = (await ctx.reads.loopRuns().catch(() => [])).filter((r) => r.state === 'running');
    for (const r of running) waited.set(r.id, r);
    if (running.length === 0 || ctx.sim.clock().t > until) break;
    if (Date.now() - lastSay >= 5000) {
      lastSay = Date.now();
      ctx.say(
        `${label}: waiting for loop run ${running[0]!.id} (${running[0]!.trigger.rule ?? running[0]!.trigger.kind}, ${running[0]!.step} step) to end before the world changes`,
      );
    }
    await sleep(500);
  }
  const ended = await ctx.reads.loopRuns().catch(() => []);
  return [...waited.keys()].map((id) => ended.find((r) => r.id === id) ?? waited.get(id)!);
}

export async function runDriftPhase(ctx: PhaseContext, phase: DemoPhase): Promise<PhaseResult> {
  const { sim, reads, timings } = ctx;
  const wall0 = Date.now();
  const simEpoch = sim.simEpoch!;
  const champion = ctx.serving;
  const tag = `phase ${phase.id} (${phase.name})`;

  const notes: string[] = [];
  const others: OtherRun[] = [];
  for (const r of await waitForIdleLoop(ctx, timings.healSeconds, tag)) others.push(other(r, 'before-onset'));

  let maePreOnset: number | null | undefined;
  if (phase.preWorld) {
    const pre = sim.setPhase(phase.preWorld);
    ctx.say(`${tag}: world → ${phase.preWorld} at t=${pre.at} s; the drift comes ${timings.preOnsetSeconds} s later`);
    await untilSimSecond(
      ctx,
      pre.at + timings.preOnsetSeconds,
      () => `${tag}: on ${phase.preWorld}, ${recentMae(ctx)}`,
    );
    maePreOnset = (await reads.liveMae(champion, simEpoch + pre.at * 1000)).mae;
    for (const r of await waitForIdleLoop(ctx, timings.healSeconds, tag)) others.push(other(r, 'before-onset'));
  }

  let loopAvailable = true;
  const listRuns = async (): Promise<LoopRun[]> => {
    if (!loopAvailable) return [];
    try {
      return await reads.loopRuns();
    } catch (err) {
      loopAvailable = false;
      ctx.say(`${tag}: ${(err as Error).message}`);
      return [];
    }
  };
  const knownRuns = new Set((await listRuns()).map((r) => r.id));
  const knownIncidents = new Set((await reads.incidents()).map((i) => i.id));

  const onset = sim.setPhase(phase.world);
  const onsetAt = simEpoch + onset.at * 1000;
  ctx.say(`${tag}: world → ${phase.world} at t=${onset.at} s: ${phase.drift}`);

  let run: LoopRun | undefined;
  const otherRuns: LoopRun[] = [];
  /** The first incident on the serving version after the onset: when the fleet noticed. */
  let first: IncidentView | undefined;
  /** The incident the loop run started from (the one it heals), else the first. */
  let incident: IncidentView | undefined;
  let activeAt: number | null = null;
  let lastSay = Date.now();
  const since = () => (sim.now() - onsetAt) / 1000;
  const status = (): string => {
    const parts = [`${tag}: +${since().toFixed(0)} s`];
    parts.push(
      first
        ? `detected by ${first.rule} after ${((first.openedAt - onsetAt) / 1000).toFixed(0)} s`
        : 'not detected yet',
    );
    if (run) parts.push(`loop ${run.id}: ${run.state === 'running' ? `${run.step} step` : run.state}`);
    if (run?.version) parts.push(`v${run.version}`);
    parts.push(recentMae(ctx));
    return parts.join(', ');
  };

  for (;;) {
    await sleep(500);
    const runs = (await listRuns())
      .filter((r) => !knownRuns.has(r.id) && r.createdAt >= onsetAt)
      .sort((a, b) => a.createdAt - b.createdAt);
    // Follow the newest run: when one fails, the loop may start another on the same incident.
    const latest = runs.at(-1);
    if (latest && run && latest.id !== run.id && !otherRuns.some((r) => r.id === run!.id)) otherRuns.push(run);
    run = latest ?? run;
    const incidents = (await reads.incidents())
      .filter((i) => !knownIncidents.has(i.id))
      .sort((a, b) => a.openedAt - b.openedAt);
    // The fleet noticed when an incident opened on the version serving the drifted world; one on
    // a retired version (its last minutes of data still in the rules' windows) is not that.
    first ??= incidents.find((i) => i.version === champion);
    incident = incidents.find((i) => i.id === run?.trigger.incidentId) ?? first;
    if (run?.version != null && activeAt === null) {
      const versions = await reads.runningVersions(ctx.deviceIds);
      if ([...versions.values()].every((v) => v === run!.version)) {
        activeAt = sim.now();
        ctx.say(
          `${tag}: every car runs v${run.version}, ${((activeAt - onsetAt) / 1000).toFixed(0)} s after the onset`,
        );
      }
    }
    if (activeAt !== null && sim.now() >= activeAt + timings.afterSeconds * 1000) break;
    if (since() > timings.phaseTimeoutSeconds) {
      ctx.say(`${tag}: giving up after ${timings.phaseTimeoutSeconds} simulated seconds`);
      break;
    }
    if (Date.now() - lastSay >= 5000) {
      lastSay = Date.now();
      ctx.say(status());
    }
  }

  const before = await reads.liveMae(champion, onsetAt);
  const after = activeAt !== null && run?.version != null ? await reads.liveMae(run.version, activeAt) : null;

  // Healed: the run finished (the incident resolves when the rule stays clear on the new version).
  if (activeAt !== null && run) {
    const healBy = sim.clock().t + timings.healSeconds;
    while (sim.clock().t < healBy) {
      run = (await listRuns()).find((r) => r.id === run!.id) ?? run;
      if (FINISHED.has(run.state)) break;
      if (Date.now() - lastSay >= 5000) {
        lastSay = Date.now();
        ctx.say(`${tag}: waiting for ${run.id} to settle (${run.step} step), ${recentMae(ctx)}`);
      }
      await sleep(500);
    }
  }
  if (incident) incident = (await reads.incidents()).find((i) => i.id === incident!.id) ?? incident;

  const alerts = (await reads.alerts())
    .filter((a) => a.firedAt !== null && a.firedAt >= onsetAt - 60_000)
    .map((a) => ({
      rule: a.rule,
      source: a.source,
      scope: a.scope,
      version: a.version,
      afterOnsetS: (a.firedAt! - onsetAt) / 1000,
      value: a.value,
    }))
    .sort((a, b) => a.afterOnsetS - b.afterOnsetS);
  const detectedAt = first ? first.openedAt : null;
  const outcome: PhaseOutcome =
    detectedAt === null
      ? 'not-detected'
      : run?.version == null
        ? 'no-version'
        : activeAt === null
          ? 'not-everywhere'
          : 'recovered';
  if (!loopAvailable) notes.push('the server has no retraining loop API');
  if (run && run.reason) notes.push(`loop run ${run.id} ${run.state}: ${run.reason}`);
  for (const r of otherRuns) {
    const fresh = (await listRuns()).find((x) => x.id === r.id) ?? r;
    others.push(other(fresh, 'after-onset'));
  }
  for (const r of others)
    notes.push(
      `${r.when === 'before-onset' ? 'before the onset' : 'also'}: loop run ${r.id} (${r.rule ?? 'no rule'} on v${r.champion ?? '?'}) ${r.state}`,
    );
  if (run && !FINISHED.has(run.state) && outcome === 'recovered')
    notes.push(`loop run ${run.id} still ${run.step} when the phase ended`);
  if (outcome === 'recovered') ctx.serving = run!.version!;

  return {
    kind: 'phase',
    phase: phase.id,
    name: phase.name,
    drift: phase.drift,
    world: phase.world,
    outcome,
    onsetAt,
    onsetS: onset.at,
    previousVersion: champion,
    maeBefore: before.mae,
    nBefore: before.n,
    maeAfter: after?.mae ?? null,
    nAfter: after?.n ?? 0,
    ...(maePreOnset !== undefined ? { maePreOnset } : {}),
    detectS: detectedAt === null ? null : (detectedAt - onsetAt) / 1000,
    recoverS: activeAt === null ? null : (activeAt - onsetAt) / 1000,
    version: ctx.serving,
    loopRunId: run?.id ?? null,
    incidentId: incident?.id ?? null,
    rule: incident?.rule ?? null,
    detectedBy: first?.rule ?? null,
    runState: run?.state ?? null,
    resolvedBy: incident?.resolvedBy ?? null,
    note: notes.length ? notes.join('; ') : null,
    detectedAt,
    activeAt,
    alerts,
    otherRuns: others,
    steps: run?.steps ?? [],
    gate: run?.gate ?? null,
    wallSeconds: (Date.now() - wall0) / 1000,
  };
}
