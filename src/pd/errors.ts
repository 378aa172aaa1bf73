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
  /**
   * The caller may not do this: its (certificate) identity, or in plaintext mode the store
   * its stream is bound to, is not the store the request speaks for; or it tried to change
   * the record of a store that is alive without proving it is that store.
   */
  PermissionDenied = 'PermissionDenied',
  /**
   * A Region heartbeat that no real leader could send: peers changed at an unchanged
   * conf_ver, a range changed at an unchanged version, an epoch or term beyond what the
   * reporting leader could have reached, or an overlap with Regions its store does not host.
   */
  RegionInconsistent = 'RegionInconsistent',
  /** A store's Raft timing (--tick-ms, --election-ticks) differs from the cluster's. */
  ClusterConfigMismatch = 'ClusterConfigMismatch',
  /** Try again later: e.g. the TSO may not run further ahead of the wall clock. */
  ServerIsBusy = 'ServerIsBusy',
  /** A bound on what PD keeps was reached (e.g. the number of stores). */
  LimitExceeded = 'LimitExceeded',
  /** The Region runs an operator already (cancel it, or wait). */
  OperatorExists = 'OperatorExists',
  /** A store an operator needs is Down, Offline, Tombstone or otherwise unusable. */
  StoreUnavailable = 'StoreUnavailable',
  /** The Region has no peer where the operator says (or has one where it must not). */
  PeerNotFound = 'PeerNotFound',
  /** No operator on the Region. */
  OperatorNotFound = 'OperatorNotFound',
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
