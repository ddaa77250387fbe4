/**
 * @module cli/commands/models
 * Registering model versions and assigning them to devices by hand (`deploy`; rollouts are the
 * gated way).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { CliError } from '../api-client.js';
import {
  UsageError,
  listFlag,
  parseModelRef,
  parsePositiveInt,
  printJson,
  rejectOperands,
  stringFlag,
  type CommandContext,
  type CommandTable,
} from '../command.js';
import { describeFileError, renderModelsTable, shortHash } from '../format.js';

async function pushModel({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [filePath, ...extra] = operands;
  if (filePath === undefined || extra.length > 0) {
    throw new UsageError('models push takes exactly one model file, e.g. edgeloop models push model.onnx --name distance');
  }
  const name = stringFlag(flags, 'name');
  if (name === undefined || name === '') throw new UsageError('models push needs --name <model name>');
  const rawVersion = stringFlag(flags, 'version');
  const version = rawVersion === undefined ? undefined : parsePositiveInt(rawVersion, '--version');
  const meta = stringFlag(flags, 'meta');

  const bytes = await readModelFile(filePath);
  const metadataJson = meta === undefined ? undefined : await readMetadataFile(meta);
  const client = connect();
  if (!flags.json) io.out(`uploading ${filePath} (${bytes.byteLength} bytes)…`);
  const body = await client.pushModel({ fileName: basename(filePath), bytes, name, version, metadataJson });
  if (flags.json) return printJson(io, body);
  const { model } = body;
  io.out(`registered ${model.name} v${model.version} sha256 ${shortHash(model.sha256)} (${model.size} bytes), signed by key ${model.keyId}`);
}

async function readModelFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CliError(`cannot read model file ${path} (${describeFileError(error)}); check the path`);
  }
  if (bytes.byteLength === 0) throw new CliError(`model file ${path} is empty; export the model again`);
  return bytes;
}

/** Returns the text as written: the server owns the metadata schema, we only catch typos early. */
async function readMetadataFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read metadata file ${path} (${describeFileError(error)}); check the --meta path`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`metadata file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`metadata file ${path} must contain a JSON object`);
  }
  return text;
}

async function listModels({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'models list');
  const body = await connect().listModels();
  if (flags.json) return printJson(io, body);
  if (body.models.length === 0) {
    return io.out('no models registered yet; push one with: edgeloop models push <file.onnx> --name <name>');
  }
  io.out(renderModelsTable(body.models));
}

async function deploy({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [ref, ...extra] = operands;
  if (ref === undefined || extra.length > 0) {
    throw new UsageError('deploy takes exactly one <name>@<version>, e.g. edgeloop deploy distance@3 --device pi-1');
  }
  const { name, version } = parseModelRef(ref);
  const devices = [...new Set(listFlag(flags, 'device'))];
  if (devices.length === 0) throw new UsageError('deploy needs at least one --device <id>');
  if (devices.includes('')) throw new UsageError('--device needs a non-empty device id');

  const body = await connect().deploy({ model: name, version, devices });
  if (flags.json) return printJson(io, body);
  const { deployment } = body;
  io.out(`assigned ${deployment.model} v${deployment.version} to ${deployment.devices.length} device(s): ${deployment.devices.join(', ')}`);
  io.out('watch it with: edgeloop devices');
}

export const modelCommands: CommandTable = {
  'models push': {
    synopsis: '<file.onnx> --name N [--version V] [--meta meta.json]',
    summary: 'register and sign a model version',
    options: { name: { type: 'string' }, version: { type: 'string' }, meta: { type: 'string' } },
    run: pushModel,
  },
  'models list': { summary: 'list registered model versions', run: listModels },
  deploy: {
    synopsis: '<name>@<version> --device ID [--device ID ...]',
    summary: 'assign a model version to devices right away (no gates; see rollouts)',
    options: { device: { type: 'string', multiple: true } },
    run: deploy,
  },
};
