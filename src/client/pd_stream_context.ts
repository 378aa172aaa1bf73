// What the PD client's long-lived streams (TSO, Region heartbeats) share with it: the
// connection, request headers, response header checks and the timing knobs.
import type { PdConnection } from './pd_connection.js';
import type { RequestHeader } from '../proto-gen/nyx/pd/RequestHeader.js';
import type { ResponseHeader__Output } from '../proto-gen/nyx/pd/ResponseHeader.js';

export interface PdStreamContext {
  readonly conn: PdConnection;
  /** The header every request carries (cluster id once known, sender id). */
  header(): RequestHeader;
  /** Adopts the cluster id on first contact; throws a PdError for header.error or a mismatch. */
  checkHeader(h: ResponseHeader__Output | null): void;
  /** How long one request may go unanswered before its stream is considered dead. */
  readonly rpcTimeoutMs: number;
  /** How long a caller may wait in total, across reconnects. */
  readonly timeoutMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}
