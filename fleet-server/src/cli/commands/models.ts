/**
 * @module cli/commands/models
 * Registering model versions and assigning them to devices by hand (`deploy`; rollouts are the
 * gated way); a version's metadata and lineage (`models show`) and its status
 * (`models approve|deprecate|revoke`; revoking removes it from every device).
 */
import { openAsBlob } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { CliError, uploadTimeoutMs } from '../api-client.js';
import {
  UsageError,
  listFlag,
  parseModelRef,
  printJson,
  rejectOperands,
  stringFlag,
  type CommandContext,
  type CommandTable,
} from '../command.js';
import { parseModelVersion, type ModelVersionSummary } from '@edgeloop/protocol';
import { describeFileError, formatBytes, formatRelativeIso, renderTable, shortHash } from '../format.js';

async function pushModel({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [filePath, ...extra] = operands;
  if (filePath === undefined || extra.length > 0) {
    throw new UsageError(
      'models push takes exactly one model file, e.g. edgeloop models push model.onnx --name distance',
    );
  }
  const name = stringFlag(flags, 'name');
  if (name === undefined || name === '') throw new UsageError('models push needs --name <model name>');
  const rawVersion = stringFlag(flags, 'version');
  const version = rawVersion === undefined ? undefined : parseVersionFlag(rawVersion);
  const meta = stringFlag(flags, 'meta');

  const file = await openModelFile(filePath);
  const metadataJson = meta === undefined ? undefined : await readMetadataFile(meta);
  const client = connect();
  if (!flags.json) io.out(`uploading ${filePath} (${file.size} bytes)…`);
  const body = await client.pushModel(
    {
      body: {
        // A File carries the name the server records; wrapping the disk-backed Blob copies nothing.
        file: new File([file], basename(filePath)),
        name,
        ...(version !== undefined ? { version: String(version) } : {}),
        ...(metadataJson !== undefined ? { metadata: metadataJson } : {}),
        ...(flags.force === true ? { force: 'true' as const } : {}),
      },
    },
    { timeoutMs: uploadTimeoutMs(file.size) },
  );
  if (flags.json) return printJson(io, body);
  const { model } = body;
  io.out(
    `registered ${model.name} v${model.version} sha256 ${shortHash(model.sha256)} (${model.size} bytes), signed by key ${model.keyId}`,
  );
}

function parseVersionFlag(raw: string): number {
  const parsed = parseModelVersion(raw);
  if (!parsed.ok) throw new UsageError(`--${parsed.reason}`);
  return parsed.value;
}

/** Backed by the file: its bytes are read from disk as they are sent, never all held in memory. */
async function openModelFile(path: string): Promise<Blob> {
  let file: Blob;
  try {
    // open() first: openAsBlob's own errors carry no code to explain (missing, denied, a directory).
    await (await open(path, 'r')).close();
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    file = await openAsBlob(path);
  } catch (error) {
    throw new CliError(`cannot read model file ${path} (${describeFileError(error)}); check the path`);
  }
  if (file.size === 0) throw new CliError(`model file ${path} is empty; export the model again`);
  return file;
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
  const rows = body.models.map((m) => [
    m.name,
    String(m.version),
    m.status ?? '',
    shortHash(m.sha256),
    formatBytes(m.size),
    formatRelativeIso(m.createdAt),
    m.lineage?.parent ? `v${m.lineage.parent}` : '',
  ]);
  io.out(renderTable(['NAME', 'VERSION', 'STATUS', 'SHA256', 'SIZE', 'CREATED', 'PARENT'], rows));
}

/** `name` or `name@version`; without a version, the latest. */
function parseNameOrRef(ref: string): { name: string; version?: number } {
  return ref.includes('@') ? parseModelRef(ref) : { name: ref };
}

async function showModel({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const [ref, ...extra] = operands;
  if (ref === undefined || extra.length > 0)
    throw new UsageError('models show takes one <name> or <name>@<version>, e.g. edgeloop models show distance@3');
  const { name, version: asked } = parseNameOrRef(ref);
  const client = connect();
  const lineage = await client.getLineage({ params: { name } });
  const version = asked ?? lineage.versions[0]?.version;
  if (version === undefined) throw new CliError(`${name} has no versions; push one with edgeloop models push`);
  const detail = await client.getModelVersion({ params: { name, version } });
  if (flags.json) return printJson(io, { ...detail, lineage });
  const m = detail.model;
  const lines = [
    `${m.name} v${m.version}  ${m.status}${m.statusReason ? ` (${m.statusReason})` : ''}`,
    `  sha256       ${m.sha256} (${formatBytes(m.size)})`,
    `  created      ${m.createdAt}, manifest expires ${m.expiresAt}, signed by key ${m.keyId}`,
    ...(m.description ? [`  description  ${m.description}`] : []),
    ...(Object.keys(m.labels ?? {}).length
      ? [
          `  labels       ${Object.entries(m.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        ]
      : []),
    ...(Object.keys(m.metrics ?? {}).length
      ? [
          `  metrics      ${Object.entries(m.metrics)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        ]
      : []),
    `  inputs       ${m.inputs.map((i) => `${i.name} ${i.dtype}[${i.shape.join(', ')}]`).join('; ')}`,
    `  outputs      ${m.outputs.map((o) => `${o.name} ${o.dtype}[${o.shape.join(', ')}]`).join('; ')}`,
    `  targets      arch ${m.targets.arch.join('/')}${m.targets.hardware.length ? `, hardware ${m.targets.hardware.join('/')}` : ''}`,
    `  training     ${detail.trainingSummary ? `${detail.trainingSummary.count} rows; baseline histograms for ${Object.keys(detail.trainingSummary.features).join(', ') || 'no features'}` : 'no summary (no drift baseline)'}`,
    '  lineage',
    ...[m, ...detail.ancestry].map(
      (v, i) => `    ${i === 0 ? '•' : '↳'} v${v.version} ${v.status}${describeLineage(v)}`,
    ),
  ];
  io.out(lines.join('\n'));
}

function describeLineage(v: ModelVersionSummary): string {
  const l = v.lineage ?? {};
  const parts = [
    l.trigger ? `trigger ${l.trigger}` : '',
    l.datasetId ? `dataset ${l.datasetId}` : '',
    l.trainingRunId ? `run ${l.trainingRunId}` : '',
    l.notes ? `"${l.notes}"` : '',
  ].filter(Boolean);
  return parts.length ? ` — ${parts.join(', ')}` : '';
}

function statusCommand(status: 'approved' | 'deprecated' | 'revoked') {
  return async ({ operands, flags, io, connect }: CommandContext): Promise<void> => {
    const verb = status === 'approved' ? 'approve' : status === 'deprecated' ? 'deprecate' : 'revoke';
    const [ref, ...extra] = operands;
    if (ref === undefined || extra.length > 0)
      throw new UsageError(`models ${verb} takes one <name>@<version>, e.g. edgeloop models ${verb} distance@3`);
    const { name, version } = parseModelRef(ref);
    const reason = stringFlag(flags, 'reason');
    const body = await connect().setModelStatus({
      params: { name, version },
      body: { status, ...(reason ? { reason } : {}) },
    });
    if (flags.json) return printJson(io, body);
    if (!body.changed) return io.out(`${name} v${version} is already ${status}`);
    io.out(`${name} v${version} is now ${status}${reason ? ` (${reason})` : ''}`);
    if (status === 'revoked') {
      io.out(
        body.removedFrom.length
          ? `removed from ${body.removedFrom.length} device(s): ${body.removedFrom.join(', ')}; deploy another version to them`
          : 'it was not assigned to any device',
      );
    }
  };
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

  const body = await connect().deploy({ body: { model: name, version, devices } });
  if (flags.json) return printJson(io, body);
  const { deployment } = body;
  io.out(
    `assigned ${deployment.model} v${deployment.version} to ${deployment.devices.length} device(s): ${deployment.devices.join(', ')}`,
  );
  io.out('watch it with: edgeloop devices');
}

export const modelCommands: CommandTable = {
  'models push': {
    synopsis: '<file.onnx> --name N [--version V [--force]] [--meta meta.json]',
    summary:
      'register and sign a model version (meta.json: tensor spec, pre/postprocessing, targets, healthCheck, description, labels, metrics, trainingSummary, lineage); --force allows a version far above the latest',
    options: {
      name: { type: 'string' },
      version: { type: 'string' },
      meta: { type: 'string' },
      force: { type: 'boolean' },
    },
    run: pushModel,
  },
  'models list': { summary: 'list registered model versions', run: listModels },
  'models show': {
    synopsis: '<name>[@<version>]',
    summary: 'metadata, status and lineage of a version (default: the latest)',
    run: showModel,
  },
  'models approve': {
    synopsis: '<name>@<version> [--reason R]',
    summary: 'mark a version approved',
    options: { reason: { type: 'string' } },
    run: statusCommand('approved'),
  },
  'models deprecate': {
    synopsis: '<name>@<version> [--reason R]',
    summary: 'mark a version deprecated (still assignable)',
    options: { reason: { type: 'string' } },
    run: statusCommand('deprecated'),
  },
  'models revoke': {
    synopsis: '<name>@<version> [--reason R]',
    summary: 'revoke a version for good: it is removed from every device and cannot be assigned again',
    options: { reason: { type: 'string' } },
    run: statusCommand('revoked'),
  },
  deploy: {
    synopsis: '<name>@<version> --device ID [--device ID ...]',
    summary: 'assign a model version to devices right away (no gates; see rollouts)',
    options: { device: { type: 'string', multiple: true } },
    run: deploy,
  },
};
