/**
 * @module @edgeloop/fleet-server
 * Fleet server: start it with settings; the CLI (`edgeloop`) talks to its REST API.
 */
export { startFleetServer, SERVER_VERSION, type RunningFleetServer } from './server.js';
export { parseFleetConfig, fleetConfigSchema, DEFAULT_HTTP_PORT, DEFAULT_MQTT_PORT, type FleetConfig, type FleetConfigInput } from './config.js';
