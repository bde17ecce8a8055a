/** Public surface of agent/config. */
export { AgentConfigSchema, type AgentConfig } from './agent-config-schema.js'
export { loadConfig, loadConfigOrThrow, formatProblems, type ConfigProblem, type LoadedConfig, type LoadOptions } from './load-config.js'
export { leafKeys, type LeafKey } from './config-overrides.js'
