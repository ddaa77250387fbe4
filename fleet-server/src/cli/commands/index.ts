/**
 * @module cli/commands
 * Every `edgeloop` command, by feature area. Add an area: write commands/<area>.ts exporting a
 * CommandTable and list it here (the order is the order of `edgeloop help`).
 */
import type { CommandTable } from '../command.js';
import { deviceCommands } from './devices.js';
import { modelCommands } from './models.js';
import { telemetryCommands } from './telemetry.js';

export const COMMAND_TABLES: CommandTable[] = [
  modelCommands,
  deviceCommands,
  telemetryCommands,
];
