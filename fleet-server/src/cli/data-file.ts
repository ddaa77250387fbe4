/**
 * @module cli/data-file
 * The files the CLI reads settings from (rules, loop policies, sweeps): JSON, or YAML where the
 * name says so, read with errors that name the file and what is wrong with it.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CliError } from './api-client.js';
import { describeFileError } from './format.js';

/** The parsed content of `path`; `what` names the file in errors ("the rule file"). */
export function readDataFile(path: string, what: string, o: { yaml: boolean } = { yaml: true }): unknown {
  const yaml = o.yaml && /\.ya?ml$/i.test(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${describeFileError(err)}`);
  }
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new CliError(`${what} ${path} is not ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
}
