/**
 * @module cli/commands
 * Every `edgeloop` command, by feature area. Add an area: write commands/<area>.ts exporting a
 * CommandTable and list it here (the order is the order of `edgeloop help`).
 */
import type { CommandTable } from '../command.js';
import { datasetCommands } from './datasets.js';
import { deviceCommands } from './devices.js';
import { identityCommands } from './identity.js';
import { keyCommands } from './keys.js';
import { loopCommands } from './loop.js';
import { modelCommands } from './models.js';
import { monitoringCommands } from './monitoring.js';
import { driftCommands } from './drift.js';
import { rolloutCommands } from './rollouts.js';
import { telemetryCommands } from './telemetry.js';
import { trainingCommands } from './training.js';
import { transferCommands } from './transfer.js';

export const COMMAND_TABLES: CommandTable[] = [
  modelCommands,
  keyCommands,
  deviceCommands,
  identityCommands,
  rolloutCommands,
  trainingCommands,
  telemetryCommands,
  monitoringCommands,
  driftCommands,
  loopCommands,
  datasetCommands,
  transferCommands,
];
