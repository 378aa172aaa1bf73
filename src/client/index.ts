// The SDK's public surface: what applications import.
export {
  createRawClient,
  createTxnClient,
  type CreateRawClientOptions,
  type CreateTxnClientOptions,
} from './create_client.js';
export * from './txn/index.js';
export {
  RawClient,
  type Bytes,
  type CasResult,
  type KvPair,
  type RawClientOptions,
  type ScanOptions,
} from './raw_client.js';
export {
  RegionCache,
  type PdLookup,
  type RegionInfo,
  type RegionLocation,
  type StoreLookupResult,
} from './region_cache.js';
export {
  Backoffer,
  DEFAULT_DEADLINE_MS,
  DEFAULT_SCHEDULES,
  type BackoffKind,
  type BackoffSchedule,
  type BackofferOptions,
} from './backoff.js';
export {
  KvConnection,
  KvConnectionPool,
  type KvCommand,
  type KvConnectionOptions,
  type KvConnectionStats,
} from './kv_connection.js';
export {
  ClientClosedError,
  ConnectionError,
  DiskFullError,
  EntryTooLargeError,
  InvalidArgumentError,
  KeyTooLargeError,
  NyxError,
  PdError,
  RegionUnavailableError,
  NoLeaderError,
  RequestTimeoutError,
  ServerError,
  UndeterminedError,
  ValueTooLargeError,
} from './errors.js';
export { ClientSession } from './session.js';
export { PdClient, type PdClientOptions } from './pd_client.js';
