/**
 * @module train/builtin
 * How to run the built-in reference trainer as a child process (protocol's trainer contract):
 * the command line, with no tfjs loaded in the process that asks for it.
 */
import { fileURLToPath } from 'node:url';

/** Absolute path of the trainer's command-line entry. */
export const BUILTIN_TRAINER_CLI: string = fileURLToPath(new URL('./cli.ts', import.meta.url));

// Resolved here, not by the child from its working directory, so the command works from any cwd.
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/** `command` followed by `<dataset-dir> <params.json> <out-dir>` (or `--describe`) runs the trainer. */
export const BUILTIN_TRAINER: { readonly name: string; readonly command: readonly string[] } = {
  name: 'edgeloop-reference',
  command: [process.execPath, '--import', tsxLoader(), BUILTIN_TRAINER_CLI],
};

/** The PyTorch example trainer (trainers/pytorch/train.py), run with Debian's Python 3. */
export const PYTORCH_EXAMPLE_TRAINER: { readonly name: string; readonly command: readonly string[] } = {
  name: 'pytorch-example',
  command: ['/usr/bin/python3', fileURLToPath(new URL('../../trainers/pytorch/train.py', import.meta.url))],
};
