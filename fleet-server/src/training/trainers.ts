/**
 * @module training/trainers
 * The trainers a server offers: those configured by name (training.trainers), plus "builtin",
 * the reference-family trainer @edgeloop/models exports as BUILTIN_TRAINER when it has one (a
 * command, or a script run with this Node). A configured "builtin" replaces it.
 */
import * as models from '@edgeloop/models';

export type TrainerTable = Readonly<Record<string, readonly string[]>>;

/** The built-in trainer's command, when the models package provides one. */
export function builtinTrainer(
  exported: unknown = (models as unknown as Record<string, unknown>).BUILTIN_TRAINER,
): readonly string[] | undefined {
  if (typeof exported === 'string') return [process.execPath, exported];
  if (Array.isArray(exported) && exported.length > 0 && exported.every((a) => typeof a === 'string')) return exported;
  const command = (exported as { command?: unknown } | undefined)?.command;
  return command === undefined ? undefined : builtinTrainer(command);
}

export function trainerTable(configured: TrainerTable): TrainerTable {
  const builtin = builtinTrainer();
  return { ...(builtin ? { builtin } : {}), ...configured };
}
