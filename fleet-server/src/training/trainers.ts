/**
 * @module training/trainers
 * The trainers a server offers: those configured by name (training.trainers), plus "builtin",
 * the reference-family trainer @edgeloop/models exports as BUILTIN_TRAINER when it has one (a
 * command, or a script run with this Node — through tsx when it is TypeScript). A configured
 * "builtin" replaces it.
 */
import * as models from '@edgeloop/models';

export type TrainerTable = Readonly<Record<string, readonly string[]>>;

/** The built-in trainer's command, when the models package provides one. */
export function builtinTrainer(
  exported: unknown = (models as unknown as Record<string, unknown>).BUILTIN_TRAINER,
): readonly string[] | undefined {
  if (typeof exported === 'string')
    // A TypeScript entry runs through tsx, as the rest of this workspace does.
    return /\.[cm]?ts$/.test(exported) ? [process.execPath, '--import', 'tsx', exported] : [process.execPath, exported];
  if (Array.isArray(exported) && exported.length > 0 && exported.every((a) => typeof a === 'string')) return exported;
  const command = (exported as { command?: unknown } | undefined)?.command;
  return command === undefined ? undefined : builtinTrainer(command);
}

export function trainerTable(configured: TrainerTable): TrainerTable {
  const builtin = builtinTrainer();
  return { ...(builtin ? { builtin } : {}), ...configured };
}

/** `--trainer torch="python3 train.py"` flags → the trainer table; the command is split at spaces (no shell). */
export function parseTrainerFlags(flags: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = flag.slice(0, eq);
    const command = flag
      .slice(eq + 1)
      .split(/\s+/)
      .filter(Boolean);
    if (eq <= 0 || command.length === 0)
      throw new Error(`--trainer takes NAME=COMMAND, e.g. --trainer torch="python3 train.py", got "${flag}"`);
    if (name in out) throw new Error(`--trainer ${name} is given twice; give each trainer once`);
    out[name] = command;
  }
  return out;
}
