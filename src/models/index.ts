/**
 * models/: one ChatModel interface for targets, attackers, judges and responders. Stages import from here:
 * `createChatModel(config.target, { cache, meter })`, never a provider directly.
 */
export * from "./errors.ts";
export {
  ConfiguredChatModel,
  createChatModel,
  createProvider,
  DEMO_MODEL_DIR,
  endpointKey,
  type ModelOptions,
  type ModelRuntime,
  type ProviderName,
  resolveBuiltinModel,
} from "./registry.ts";
export * from "./reliability/index.ts";
export { redactSecrets, registerSecret, resolveApiKey, type SecretSource } from "./secrets.ts";
export { createOpenAIApp, type RunningServer, type ServerOptions, startOpenAIServer } from "./server.ts";
export * from "./types.ts";
