/**
 * @module cli/commands/transfer
 * Shadow deployments (a candidate beside the serving version, never answering), live error per
 * version (served and shadow), and artifact bytes sent per device.
 */
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
import { formatBytes, formatNumber, renderTable } from '../format.js';

function oneOperand(operands: string[], command: string, what: string): string {
  if (operands.length !== 1) throw new UsageError(`${command} takes exactly one ${what}`);
  return operands[0]!;
}

function devicesFlag(flags: CommandContext['flags'], command: string): string[] {
  const devices = listFlag(flags, 'device');
  if (devices.length === 0) throw new UsageError(`${command} needs at least one --device`);
  return devices;
}

async function deployShadow({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const { name, version } = parseModelRef(oneOperand(operands, 'shadow deploy', 'NAME@VERSION'));
  const devices = devicesFlag(flags, 'shadow deploy');
  const body = await connect().deploy({ body: { model: name, version, devices, role: 'shadow' } });
  if (flags.json) return printJson(io, body);
  io.out(
    `${name} v${version} runs in shadow on ${devices.length} device(s); it answers no requests. Compare: edgeloop live-error --model ${name}`,
  );
}

async function removeShadow({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const name = oneOperand(operands, 'shadow remove', 'model NAME');
  const devices = devicesFlag(flags, 'shadow remove');
  const body = await connect().removeShadow({ params: { model: name }, body: { devices } });
  if (flags.json) return printJson(io, body);
  io.out(
    body.removed.length
      ? `shadow of ${name} removed from ${body.removed.join(', ')}`
      : `none of these devices ran ${name} in shadow`,
  );
}

async function liveError({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'live-error');
  const model = stringFlag(flags, 'model');
  if (!model) throw new UsageError('live-error needs --model NAME');
  const version = stringFlag(flags, 'version');
  const devices = listFlag(flags, 'device');
  if (devices.length > 1) throw new UsageError('live-error takes at most one --device');
  const body = await connect().liveError({
    query: {
      model,
      version: version === undefined ? undefined : parsePositiveInt(version, '--version'),
      device: devices[0] || undefined,
    },
  });
  if (flags.json) return printJson(io, body);
  if (body.errors.length === 0)
    return io.out(
      `no ${model} records with reference values yet; bind a sensor to the model on the devices (agent config sensors.bindings)`,
    );
  io.out(
    renderTable(
      ['version', 'role', 'records', 'mae', 'rmse'],
      body.errors.map((e) => [
        `v${e.version}`,
        e.shadow ? 'shadow' : 'served',
        String(e.n),
        formatNumber(e.mae),
        formatNumber(e.rmse),
      ]),
    ),
  );
}

async function transfers({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'transfers');
  const body = await connect().listDevices();
  if (flags.json)
    return printJson(io, {
      devices: body.devices.map((d) => ({ id: d.id, bytesSent: d.bytesSent, shadows: d.shadows })),
    });
  io.out(
    renderTable(
      ['device', 'bytes sent', 'shadow'],
      body.devices.map((d) => [
        d.id,
        formatBytes(d.bytesSent ?? 0),
        (d.shadows ?? []).map((s) => `${s.model} v${s.version} ${s.state}`).join(', ') || '—',
      ]),
    ),
  );
}

const device = { type: 'string', multiple: true } as const;

export const transferCommands: CommandTable = {
  'shadow deploy': {
    synopsis: 'NAME@VERSION --device ID [--device ID…]',
    summary: 'run a candidate beside the serving version: it records its outputs and never answers',
    options: { device },
    run: deployShadow,
  },
  'shadow remove': {
    synopsis: 'NAME --device ID [--device ID…]',
    summary: 'stop the shadow of a model on devices (they unload it)',
    options: { device },
    run: removeShadow,
  },
  'live-error': {
    synopsis: '--model NAME [--version V] [--device ID]',
    summary: 'error vs reference values per version, served and shadow (MAE, RMSE)',
    options: { model: { type: 'string' }, version: { type: 'string' }, device },
    run: liveError,
  },
  transfers: {
    summary: 'artifact bytes sent to each device (HTTP and MQTT) and its shadow models',
    run: transfers,
  },
};
