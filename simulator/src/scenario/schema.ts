/**
 * @module scenario/schema
 * The scenario file: timed phases of the simulated world. Each phase lists only what changes;
 * everything else carries over from the phase before (the first phase from PHASE_DEFAULTS). A
 * phase starts suddenly or blends in from the previous one over some seconds.
 *
 * Values that vary from frame to frame or run to run are ranges: `{ min, max }`, or a bare number
 * for a fixed value. Colours are a name from COLOURS, `#rrggbb`, or `[r, g, b]`.
 */
import { z } from 'zod';
import { FLOOR_TEXTURES } from '../scene/texture.js';
import type { Rgb } from '../scene/render.js';

/** Floor and wall colours by name (sRGB). */
export const COLOURS = {
  beige: [214, 196, 160],
  red: [172, 58, 48],
  green: [78, 140, 72],
  grey: [140, 140, 138],
  white: [236, 234, 228],
  blue: [68, 98, 158],
  brown: [122, 86, 58],
  black: [38, 36, 34],
} as const satisfies Record<string, Rgb>;

const channel = z.number().int().min(0).max(255);
const COLOUR_HELP = `must be one of ${Object.keys(COLOURS).join(', ')}, "#rrggbb" or [r, g, b]`;
export const colourSchema = z.union([
  z.enum(Object.keys(COLOURS) as [string, ...string[]], { error: COLOUR_HELP }),
  z.string().regex(/^#[0-9a-fA-F]{6}$/, COLOUR_HELP),
  z.tuple([channel, channel, channel]),
]);
export type Colour = z.infer<typeof colourSchema>;

export function rgbOf(c: Colour): Rgb {
  if (Array.isArray(c)) return [c[0], c[1], c[2]];
  const s = c as string;
  if (s.startsWith('#')) return [0, 2, 4].map((i) => parseInt(s.slice(1 + i, 3 + i), 16)) as unknown as Rgb;
  return COLOURS[s as keyof typeof COLOURS];
}

/** A range `{ min, max }` within [lo, hi], or one number for both. */
function range(lo: number, hi: number, unit: string) {
  const bound = z.number().min(lo, `must be ≥ ${lo} ${unit}`).max(hi, `must be ≤ ${hi} ${unit}`);
  return z.union([
    bound,
    z
      .object({ min: bound, max: bound })
      .strict()
      .refine((r) => r.min <= r.max, { message: 'min must be ≤ max' }),
  ]);
}

export const floorSchema = z
  .object({
    colour: colourSchema.optional(),
    texture: z.enum(FLOOR_TEXTURES).optional(),
    /** Which instance of the pattern (another room's tiles). */
    textureSeed: z.number().int().optional(),
  })
  .strict();

export const transitionSchema = z.union([
  z.literal('sudden'),
  z
    .object({
      kind: z.literal('gradual'),
      /** Seconds over which this phase blends in from the previous one. */
      seconds: z.number().positive().max(86_400),
    })
    .strict(),
]);

export const phaseSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters from A-Z a-z 0-9 _ . -'),
    /** Seconds; the last phase may leave it out and runs until the simulation stops. */
    duration: z
      .number()
      .positive()
      .max(86_400 * 30)
      .optional(),
    /** Bumper-to-wall distance the car moves through, mm. */
    distance: range(0, 2000, 'mm').optional(),
    /** Approach angle to the wall, degrees (either side). */
    angle: range(0, 45, '°').optional(),
    floor: floorSchema.optional(),
    wall: colourSchema.optional(),
    lighting: z
      .object({
        /** Exposure gain (1: as rendered). */
        gain: range(0.1, 4, '×').optional(),
        /** Exposure offset, 8-bit levels. */
        offset: range(-128, 128, 'levels').optional(),
      })
      .strict()
      .optional(),
    /** Camera sensor noise, σ in 8-bit levels. */
    noise: range(0, 64, 'levels').optional(),
    /** Optical blur, box radius in pixels of a 160-pixel-wide frame. */
    blur: range(0, 8, 'px').optional(),
    transition: transitionSchema.optional(),
  })
  .strict();
export type PhaseInput = z.infer<typeof phaseSchema>;

export const scenarioSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters from A-Z a-z 0-9 _ . -'),
    description: z.string().max(4096).optional(),
    /** Camera frames per second per device (the origin car took 4). */
    fps: z.number().positive().max(60).default(4),
    phases: z.array(phaseSchema).min(1, 'a scenario needs at least one phase').max(64),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.phases.forEach((p, i) => {
      if (seen.has(p.name))
        ctx.addIssue({ code: 'custom', path: ['phases', i, 'name'], message: `phase name "${p.name}" is used twice` });
      seen.add(p.name);
      if (p.duration === undefined && i < s.phases.length - 1)
        ctx.addIssue({
          code: 'custom',
          path: ['phases', i, 'duration'],
          message: 'only the last phase may leave out its duration (seconds)',
        });
      if (i === 0 && p.transition !== undefined && p.transition !== 'sudden')
        ctx.addIssue({
          code: 'custom',
          path: ['phases', 0, 'transition'],
          message: 'the first phase has nothing to blend in from; remove its transition',
        });
      if (typeof p.transition === 'object' && p.duration !== undefined && p.transition.seconds > p.duration)
        ctx.addIssue({
          code: 'custom',
          path: ['phases', i, 'transition', 'seconds'],
          message: `the blend (${p.transition.seconds} s) must fit in the phase's duration (${p.duration} s)`,
        });
    });
  });
export type ScenarioInput = z.input<typeof scenarioSchema>;
