/**
 * @module scenario/load
 * Reads a scenario file (JSON or YAML), checks it against the schema with errors that name the
 * field and say what is allowed, and resolves it into phases with absolute start times and every
 * setting filled in (inherited from the phase before, or the defaults).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { DEFAULT_WALL, type Rgb } from '../scene/render.js';
import type { FloorTexture } from '../scene/texture.js';
import { rgbOf, scenarioSchema, type PhaseInput } from './schema.js';

export interface Range {
  min: number;
  max: number;
}

/** Everything a phase sets, filled in. */
export interface PhaseSettings {
  distance: Range;
  angle: Range;
  floor: { rgb: Rgb; texture: FloorTexture; textureSeed: number };
  wall: Rgb;
  gain: Range;
  offset: Range;
  noise: Range;
  blur: Range;
}

export interface Phase {
  name: string;
  /** Seconds from the start of the scenario. */
  start: number;
  /** Infinity for a last phase without a duration. */
  end: number;
  /** Seconds over which the phase blends in from the previous one (0: sudden). */
  blendSeconds: number;
  settings: PhaseSettings;
}

export interface Scenario {
  name: string;
  description?: string;
  fps: number;
  phases: Phase[];
  /** Sum of the phases' durations (Infinity when the last runs open-ended). */
  duration: number;
}

/** What a first phase inherits: the origin's baseline (beige floor, 0–250 mm, straight approach). */
export const PHASE_DEFAULTS: PhaseSettings = {
  distance: { min: 0, max: 250 },
  angle: { min: 0, max: 0 },
  floor: { rgb: rgbOf('beige'), texture: 'noise', textureSeed: 1 },
  wall: DEFAULT_WALL,
  gain: { min: 0.95, max: 1.05 },
  offset: { min: -6, max: 6 },
  noise: { min: 2, max: 2 },
  blur: { min: 0, max: 0 },
};

/** The scenarios shipped in simulator/scenarios/. */
export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

export function builtinScenarios(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** A scenario by file path, or by the name of a shipped one (e.g. "baseline"). */
export function loadScenario(nameOrPath: string): Scenario {
  let path = nameOrPath;
  if (!existsSync(path)) {
    const shipped = ['.yaml', '.yml', '.json'].map((e) => join(SCENARIO_DIR, nameOrPath + e)).find(existsSync);
    if (!shipped)
      throw new ScenarioError(
        `no scenario file "${nameOrPath}" and no shipped scenario of that name; give a path to a .yaml/.json file or one of: ${builtinScenarios().join(', ')}`,
      );
    path = shipped;
  }
  return parseScenario(readFileSync(path, 'utf8'), path);
}

/** Parses scenario text; `source` (a file name) picks JSON or YAML and labels errors. */
export function parseScenario(text: string, source = 'scenario'): Scenario {
  let raw: unknown;
  try {
    raw = source.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ScenarioError(
      `${source}: not valid ${source.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  return resolveScenario(raw, source);
}

/** Checks and resolves an already parsed scenario object. */
export function resolveScenario(raw: unknown, source = 'scenario'): Scenario {
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ScenarioError(`${source} is not a valid scenario:\n  ${formatIssues(parsed.error.issues).join('\n  ')}`);
  }
  const s = parsed.data;
  let previous = PHASE_DEFAULTS;
  let start = 0;
  const phases = s.phases.map((p) => {
    const settings = inherit(previous, p);
    const phase: Phase = {
      name: p.name,
      start,
      end: start + (p.duration ?? Infinity),
      blendSeconds: typeof p.transition === 'object' ? p.transition.seconds : 0,
      settings,
    };
    previous = settings;
    start = phase.end;
    return phase;
  });
  return {
    name: s.name,
    ...(s.description !== undefined ? { description: s.description } : {}),
    fps: s.fps,
    phases,
    duration: start,
  };
}

function toRange(v: number | Range | undefined, fallback: Range): Range {
  if (v === undefined) return fallback;
  return typeof v === 'number' ? { min: v, max: v } : { min: v.min, max: v.max };
}

function inherit(prev: PhaseSettings, p: PhaseInput): PhaseSettings {
  return {
    distance: toRange(p.distance, prev.distance),
    angle: toRange(p.angle, prev.angle),
    floor: {
      rgb: p.floor?.colour !== undefined ? rgbOf(p.floor.colour) : prev.floor.rgb,
      texture: p.floor?.texture ?? prev.floor.texture,
      textureSeed: p.floor?.textureSeed ?? prev.floor.textureSeed,
    },
    wall: p.wall !== undefined ? rgbOf(p.wall) : prev.wall,
    gain: toRange(p.lighting?.gain, prev.gain),
    offset: toRange(p.lighting?.offset, prev.offset),
    noise: toRange(p.noise, prev.noise),
    blur: toRange(p.blur, prev.blur),
  };
}

const PHASE_FIELDS = [
  'name',
  'duration',
  'distance',
  'angle',
  'floor',
  'wall',
  'lighting',
  'noise',
  'blur',
  'transition',
];

/** One line per problem: where (phases.1.floor.colour) and what to do. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    const where = i.path.length ? i.path.join('.') : '(top level)';
    if (i.code === 'unrecognized_keys') {
      const inPhase = i.path.length === 2 && i.path[0] === 'phases';
      const allowed = inPhase ? ` (a phase may have: ${PHASE_FIELDS.join(', ')})` : '';
      return `${where}: unknown field ${i.keys.map((k) => `"${k}"`).join(', ')}${allowed}`;
    }
    if (i.code === 'invalid_union') {
      // Ranges: a number or { min, max }. Report the deepest concrete problem instead of "invalid input".
      const nested = i.errors.flat().find((e) => e.code !== 'invalid_type');
      if (nested) return `${where}${nested.path.length ? '.' + nested.path.join('.') : ''}: ${nested.message}`;
      return `${where}: must be a number or { min, max }`;
    }
    return `${where}: ${i.message}`;
  });
}
