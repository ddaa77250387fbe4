/**
 * @module cli/commands/devices
 * The device list: what each device runs and what it was assigned.
 */
import { printJson, rejectOperands, type CommandContext, type CommandTable } from '../command.js';
import { renderDevicesTable } from '../format.js';

async function listDevices({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'devices');
  const body = await connect().listDevices();
  if (flags.json) return printJson(io, body);
  if (body.devices.length === 0) {
    return io.out('no devices have connected yet; start an agent pointed at this server');
  }
  io.out(renderDevicesTable(body.devices));
}

export const deviceCommands: CommandTable = {
  devices: { summary: 'show devices, what they run and what they were assigned', run: listDevices },
};
