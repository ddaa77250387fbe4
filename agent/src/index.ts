/**
 * @module @edgeloop/agent
 * The device agent: start it with a validated config.
 */
export { startAgent, AGENT_VERSION, type RunningAgent } from './agent.js';
export {
  parseAgentConfig,
  loadAgentConfig,
  agentConfigSchema,
  ConfigError,
  type AgentConfig,
  type AgentConfigInput,
} from './config.js';
