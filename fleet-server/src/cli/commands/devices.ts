/**
 * @module cli/commands/devices
 * The device list: what each device runs and what it was assigned, optionally narrowed to a
 * group, tags, online or offline devices, or a model (version), running or assigned, and cut to
 * the first N (commands/identity.ts changes single devices).
 */
import {
  listFlag,
  parseModelRef,
  parsePositiveInt,
  parseTags,
  printJson,
  rejectOperands,
  stringFlag,
  type CommandContext,
  type CommandTable,
  UsageError,
} from '../command.js';
import { renderDevicesTable } from '../format.js';

/** `distance` or `distance@3`: a model, optionally one version of it. */
function modelFilter(raw: string | undefined): { model?: string; version?: number } {
  if (raw === undefined) return {};
  if (!raw.includes('@')) return { model: raw };
  const { name, version } = parseModelRef(raw);
  return { model: name, version };
}

async function listDevices({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'devices');
  const group = stringFlag(flags, 'group');
  const tags = listFlag(flags, 'tag');
  parseTags(tags); // usage errors before any network call
  if (flags.online === true && flags.offline === true)
    throw new UsageError('--online and --offline exclude each other; give one, or neither for both');
  const rawLimit = stringFlag(flags, 'limit');
  const limit = rawLimit === undefined ? undefined : parsePositiveInt(rawLimit, '--limit');
  if (limit !== undefined && limit > 500) throw new UsageError('--limit is at most 500; narrow the list with filters');
  const model = modelFilter(stringFlag(flags, 'model'));
  const online = flags.online === true ? true : flags.offline === true ? false : undefined;
  const body = await connect().listDevices({
    query: { group, tag: tags.length ? tags : undefined, online, limit, ...model },
  });
  if (flags.json) return printJson(io, body);
  const filtered = group !== undefined || tags.length > 0 || online !== undefined || model.model !== undefined;
  if (body.devices.length === 0) {
    return io.out(
      filtered
        ? 'no devices match; edgeloop devices lists all of them'
        : 'no devices have enrolled yet; create a token with edgeloop tokens create and run edgeloop-agent enroll on the device',
    );
  }
  io.out(renderDevicesTable(body.devices));
  if (body.total > body.devices.length)
    io.out(`${body.devices.length} of ${body.total} devices; raise --limit (up to 500) or narrow with filters`);
}

export const deviceCommands: CommandTable = {
  devices: {
    synopsis: '[--group G] [--tag k=v ...] [--online | --offline] [--model NAME[@VERSION]] [--limit N]',
    summary: 'show devices, what they run and what they were assigned',
    options: {
      group: { type: 'string' },
      tag: { type: 'string', multiple: true },
      online: { type: 'boolean' },
      offline: { type: 'boolean' },
      model: { type: 'string' },
      limit: { type: 'string' },
    },
    run: listDevices,
  },
};
