// Errors the PD client raises besides PdError (a typed refusal from PD itself, see
// src/pd/errors.ts): PdUnavailableError when no PD answered in time, with the addresses
// tried and a short human cause ("connection refused", "timed out", ...).
import * as grpc from '@grpc/grpc-js';

export class PdUnavailableError extends Error {
  constructor(
    /** The PD address(es) tried, comma-separated. */
    readonly address: string,
    /** Why, in a few words. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach PD at ${address} (${reason})`, options);
    this.name = 'PdUnavailableError';
  }
}

export class PdClientClosedError extends Error {
  constructor() {
    super('PD client is closed');
    this.name = 'PdClientClosedError';
  }
}

function isServiceError(e: unknown): e is grpc.ServiceError {
  return e instanceof Error && typeof (e as grpc.ServiceError).code === 'number';
}

/** Transport failures worth another attempt: PD may be restarting or briefly overloaded. */
export function isRetryableGrpcError(e: unknown): boolean {
  if (!isServiceError(e)) return false;
  return (
    e.code === grpc.status.UNAVAILABLE ||
    e.code === grpc.status.DEADLINE_EXCEEDED ||
    e.code === grpc.status.CANCELLED ||
    e.code === grpc.status.ABORTED ||
    e.code === grpc.status.RESOURCE_EXHAUSTED
  );
}

const SOCKET_CAUSES: [RegExp, string][] = [
  [/ECONNREFUSED/, 'connection refused'],
  [/ENOTFOUND|EAI_AGAIN|Name resolution failed/i, 'host not found'],
  [/EHOSTUNREACH|ENETUNREACH/, 'host unreachable'],
  [/ECONNRESET/, 'connection reset'],
  [/ETIMEDOUT/, 'timed out'],
];

/** A few words on why a call failed, for "cannot reach PD at … (<cause>)". */
export function describeGrpcFailure(e: unknown): string {
  if (!isServiceError(e)) return e instanceof Error ? e.message : String(e);
  const details = e.details || e.message;
  for (const [re, text] of SOCKET_CAUSES) if (re.test(details)) return text;
  if (e.code === grpc.status.DEADLINE_EXCEEDED) return 'timed out';
  if (e.code === grpc.status.UNIMPLEMENTED) return 'the server there is not a PD';
  const name = grpc.status[e.code] ?? String(e.code);
  return `${name}: ${details}`;
}
