/**
 * The trainer table: the models package's built-in trainer in whichever form it is exported,
 * configured trainers beside (or replacing) it, and `--trainer NAME=COMMAND` flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinTrainer, parseTrainerFlags } from './trainers.js';

test('the built-in trainer from a command, a script path or an object with a command', () => {
  assert.deepEqual(builtinTrainer(['node', 'train.js']), ['node', 'train.js']);
  assert.deepEqual(builtinTrainer('/opt/train.js'), [process.execPath, '/opt/train.js']);
  assert.deepEqual(builtinTrainer('/opt/train-cli.ts'), [process.execPath, '--import', 'tsx', '/opt/train-cli.ts']);
  assert.deepEqual(builtinTrainer({ command: ['python3', 't.py'] }), ['python3', 't.py']);
  assert.equal(builtinTrainer(null), undefined);
  assert.equal(builtinTrainer([]), undefined);
});

test('--trainer flags become named commands, split at spaces without a shell', () => {
  assert.deepEqual(parseTrainerFlags(['torch=python3  examples/train.py --cpu', 'fixture=node f.mjs']), {
    torch: ['python3', 'examples/train.py', '--cpu'],
    fixture: ['node', 'f.mjs'],
  });
  assert.throws(() => parseTrainerFlags(['python3 train.py']), /--trainer takes NAME=COMMAND/);
  assert.throws(() => parseTrainerFlags(['t=']), /--trainer takes NAME=COMMAND/);
  assert.throws(() => parseTrainerFlags(['t=a', 't=b']), /given twice/);
});
