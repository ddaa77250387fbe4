/**
 * @module @edgeloop/fleet-server
 * Fleet server: start it with settings; the CLI (`edgeloop`) talks to its REST API.
 */
export { startFleetServer, SERVER_VERSION, type FleetServerParts, type RunningFleetServer } from './server.js';
export {
  parseFleetConfig,
  fleetConfigSchema,
  DEFAULT_HTTP_PORT,
  DEFAULT_MQTT_PORT,
  type FleetConfig,
  type FleetConfigInput,
} from './config.js';
/** The file through which `edgeloop` commands find a running server (written by `edgeloop serve`, and by the demo). */
export { removeServerInfo, writeServerInfo } from './cli/serve.js';
/** Validates a rollout request as POST /api/v1/rollouts does, for callers that create one in-process. */
export { parseCreateRollout } from './rollouts/rollout-params.js';
