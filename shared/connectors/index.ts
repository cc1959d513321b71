/**
 * The public entry point for writing a connector of your own (docs/connectors.md, "Writing a
 * connector"): `defineConnector` and the building blocks ours are made of, the same HTTP client
 * (timeouts, Retry-After, retries of replay-safe calls), rate limiter, error classification and
 * batching. Import from here only; the rest of shared/connectors/ may change.
 */

export { TargetError } from '../errors.ts';
export { isAuthRefusal } from './authErrors.ts';
export { chunks, waves, writeInCalls } from './batching.ts';
export type { ConnectionCredentials } from './ConnectionCredentials.ts';
export type {
  Connector,
  ConnectorCapabilities,
  ConnectorMetrics,
  TargetRecord,
  UpsertRecord,
  UpsertResult,
} from './Connector.ts';
export type {
  ConnectorDefinition,
  ConnectorFactoryContext,
  ConnectorOptions,
  ContractSample,
} from './ConnectorDefinition.ts';
export { defineConnector } from './defineConnector.ts';
export { BearerAuth } from './http/BearerAuth.ts';
export { ClientCredentialsToken } from './http/ClientCredentialsToken.ts';
export { type ClassifyOptions, classifyAnswer, statusCodesFor } from './http/classifyAnswer.ts';
export {
  connectorHttpClient,
  connectorMetrics,
  type HttpConnectorOptions,
} from './http/connectorHttpClient.ts';
export {
  HttpClient,
  type HttpRequest,
  type HttpResponse,
  type HttpResult,
  parseJson,
} from './http/HttpClient.ts';
export { RateLimiter, type RateLimitSpec } from './http/RateLimiter.ts';
export { Secret } from './http/Secret.ts';
export type { ContractFaults, ContractTarget } from './kit/ContractTarget.ts';
export { applyNullPolicy, type NullPolicy } from './nullPolicy.ts';
export { failAll } from './upsertResults.ts';
