/**
 * @module @edgeloop/agent/testing
 * The agent's internals that tests and benchmarks outside this workspace drive directly (the
 * record buffer, the MQTT chunk client, image preprocessing), so that they import a declared
 * entry point instead of reaching into src/ by relative path. Not used by the agent itself, and not in its bundle.
 */
export { KeyValue, openAgentDb, type AgentDb } from './store/agent-db.js';
export { RecordBuffer, type NewRecord } from './store/record-buffer.js';
export { MqttChunkClient } from './updates/mqtt-chunk-source.js';
export { Throttle } from './updates/range-fetch.js';
export { imageToTensor } from './predict/image-input.js';
export { Predictor } from './predict/predictor.js';
export { ActiveModels } from './runtime/active-models.js';
export { ModelRunner } from './runtime/model-runner.js';
export { agentConfigSchema } from './config.js';
export { startAgentOutbox } from './outbox/agent-outbox.js';
export { startMonitoring } from './monitoring/monitoring.js';
export { monitoringConfigSchema } from './monitoring/monitoring-config.js';
