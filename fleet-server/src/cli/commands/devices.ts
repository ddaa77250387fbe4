/**
 * @module cli/commands/devices
 * The device list: what each device runs and what it was assigned, optionally narrowed to a
 * group or to devices carrying given tags (commands/identity.ts changes single devices).
 */
import {
  listFlag,
  parseTags,
  printJson,
  rejectOperands,
  stringFlag,
  type CommandContext,
  type CommandTable,
} from '../command.js';
import { renderDevicesTable } from '../format.js';

async function listDevices({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'devices');
  const group = stringFlag(flags, 'group');
  const tags = listFlag(flags, 'tag');
  parseTags(tags); // usage errors before any network call
  const body = await connect().listDevices({ query: { group, tag: tags.length ? tags : undefined } });
  if (flags.json) return printJson(io, body);
  if (body.devices.length === 0) {
    return io.out(
      group !== undefined || tags.length
        ? 'no devices match; edgeloop devices lists all of them'
        : 'no devices have enrolled yet; create a token with edgeloop tokens create and run edgeloop-agent enroll on the device',
    );
  }
  io.out(renderDevicesTable(body.devices));
}

export const deviceCommands: CommandTable = {
  devices: {
    synopsis: '[--group G] [--tag k=v ...]',
    summary: 'show devices, what they run and what they were assigned',
    options: { group: { type: 'string' }, tag: { type: 'string', multiple: true } },
    run: listDevices,
  },
};
