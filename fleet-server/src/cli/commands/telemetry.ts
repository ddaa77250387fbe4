/**
 * @module cli/commands/telemetry
 * What devices sent: prediction records, and the raw inputs they kept for retraining.
 */
import {
  UsageError,
  listFlag,
  parsePositiveInt,
  printJson,
  rejectOperands,
  stringFlag,
  type CommandContext,
  type CommandTable,
} from '../command.js';
import { renderSamplesTable, renderTelemetryTable } from '../format.js';

export const DEFAULT_TELEMETRY_LIMIT = 20;

async function listTelemetry({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'telemetry');
  const devices = listFlag(flags, 'device');
  if (devices.length > 1) throw new UsageError('telemetry takes at most one --device');
  const rawLimit = stringFlag(flags, 'limit');
  const rawVersion = stringFlag(flags, 'version');
  const limit = rawLimit === undefined ? DEFAULT_TELEMETRY_LIMIT : parsePositiveInt(rawLimit, '--limit');
  const version = rawVersion === undefined ? undefined : parsePositiveInt(rawVersion, '--version');

  const body = await connect().listTelemetry({
    query: { device: devices[0], model: stringFlag(flags, 'model'), version, limit },
  });
  if (flags.json) return printJson(io, body);
  if (body.records.length === 0) return io.out('no telemetry records match');
  io.out(renderTelemetryTable(body.records));
}

async function listSamples({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'samples list');
  const devices = listFlag(flags, 'device');
  if (devices.length > 1) throw new UsageError('samples list takes at most one --device');
  const rawLimit = stringFlag(flags, 'limit');
  const limit = rawLimit === undefined ? DEFAULT_TELEMETRY_LIMIT : parsePositiveInt(rawLimit, '--limit');
  const body = await connect().listSamples({ query: { device: devices[0], model: stringFlag(flags, 'model'), limit } });
  if (flags.json) return printJson(io, body);
  if (body.samples.length === 0)
    return io.out(
      'no samples yet; devices keep some when sampling is configured, and upload them on request (edgeloop samples request)',
    );
  io.out(renderSamplesTable(body.samples));
}

async function requestSamples({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'samples request');
  const devices = listFlag(flags, 'device');
  if (devices.length !== 1) throw new UsageError('samples request needs exactly one --device');
  const rawMinutes = stringFlag(flags, 'minutes');
  const minutes = rawMinutes === undefined ? 60 : parsePositiveInt(rawMinutes, '--minutes');
  const body = await connect().requestSamples({ params: { id: devices[0]! }, body: { minutes } });
  if (flags.json) return printJson(io, body);
  io.out(
    `asked ${body.deviceId} to upload its samples until ${new Date(body.uploadUntil).toISOString()}; list them with: edgeloop samples list --device ${body.deviceId}`,
  );
}

async function captureSamples({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'samples capture');
  const devices = listFlag(flags, 'device');
  if (devices.length !== 1) throw new UsageError('samples capture needs exactly one --device');
  if (flags.stop) {
    const stopped = await connect().stopSampleCapture({ params: { id: devices[0]! } });
    if (flags.json) return printJson(io, stopped);
    return io.out(
      stopped.stopped
        ? `closed the capture window of ${stopped.deviceId}`
        : `${stopped.deviceId} had no open capture window`,
    );
  }
  const rawMinutes = stringFlag(flags, 'minutes');
  const rawEveryN = stringFlag(flags, 'every-n');
  const models = (stringFlag(flags, 'model') ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  const body = await connect().startSampleCapture({
    params: { id: devices[0]! },
    body: {
      minutes: rawMinutes === undefined ? 30 : parsePositiveInt(rawMinutes, '--minutes'),
      everyN: rawEveryN === undefined ? 1 : parsePositiveInt(rawEveryN, '--every-n'),
      ...(models.length ? { models } : {}),
    },
  });
  if (flags.json) return printJson(io, body);
  const which = body.capture.models ? `inputs of ${body.capture.models.join(', ')}` : 'its inputs';
  const every = body.capture.everyN > 1 ? ` (one in ${body.capture.everyN})` : '';
  io.out(
    `asked ${body.deviceId} to keep ${which}${every} until ${new Date(body.capture.until).toISOString()} and upload them; ` +
      `devices honour this only with sampling.captureOnRequest on in their config. List them with: edgeloop samples list --device ${body.deviceId}`,
  );
}

const device = { type: 'string', multiple: true } as const;

export const telemetryCommands: CommandTable = {
  telemetry: {
    synopsis: '[--device ID] [--model N] [--version V] [--limit N]',
    summary: `show recent predictions (newest first, default limit ${DEFAULT_TELEMETRY_LIMIT})`,
    options: { device, model: { type: 'string' }, version: { type: 'string' }, limit: { type: 'string' } },
    run: listTelemetry,
  },
  'samples list': {
    synopsis: '[--device ID] [--model N] [--limit N]',
    summary: 'list the raw inputs devices kept for retraining',
    options: { device, model: { type: 'string' }, limit: { type: 'string' } },
    run: listSamples,
  },
  'samples request': {
    synopsis: '--device ID [--minutes N]',
    summary: 'ask a device to upload its kept inputs (default 60 minutes)',
    options: { device, minutes: { type: 'string' } },
    run: requestSamples,
  },
  'samples capture': {
    synopsis: '--device ID [--model N[,N…]] [--minutes N] [--every-n N] | --device ID --stop',
    summary:
      'ask a device to keep and upload its inputs for a while (default 30 minutes, every input); --stop closes the window',
    options: {
      device,
      model: { type: 'string' },
      minutes: { type: 'string' },
      'every-n': { type: 'string' },
      stop: { type: 'boolean' },
    },
    run: captureSamples,
  },
};
