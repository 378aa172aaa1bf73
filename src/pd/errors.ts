// Typed PD errors. The gRPC layer maps `code` onto the wire error of the PD contract, so
// callers (stores, clients) can tell "retry later" from "your view is stale" from "bug".

export enum PdErrorCode {
  /** An unexpected failure inside PD (a bug); the wire's zero value, never a retry hint. */
  Unknown = 'Unknown',
  /** The cluster has no initial Regions yet (or is still waiting for its first stores). */
  NotBootstrapped = 'NotBootstrapped',
  AlreadyBootstrapped = 'AlreadyBootstrapped',
  /** Fewer stores are registered than bootstrap needs. */
  NotEnoughStores = 'NotEnoughStores',
  StoreNotFound = 'StoreNotFound',
  StoreTombstone = 'StoreTombstone',
  /** Another live store already uses this address. */
  DuplicateAddress = 'DuplicateAddress',
  /** A heartbeat carried an epoch (or term) older than what PD already knows. */
  StaleRegion = 'StaleRegion',
  InvalidArgument = 'InvalidArgument',
  /** The caller believes it talks to another cluster (checked by the service layer). */
  ClusterIdMismatch = 'ClusterIdMismatch',
  RegionNotFound = 'RegionNotFound',
}

export class PdError extends Error {
  constructor(
    readonly code: PdErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PdError';
  }
}

export function isPdError(e: unknown, code?: PdErrorCode): e is PdError {
  return e instanceof PdError && (code === undefined || e.code === code);
}
