// Builds a RawClient or a TxnClient from PD endpoints (the usual case) or from a PD
// lookup the caller holds (tests, tools that already have a PD client). A PD client opened
// here is closed with the client; one passed in belongs to the caller.
import { PdClient, type PdClientOptions } from './pd_client.js';
import { RawClient, type RawClientOptions } from './raw_client.js';
import type { PdLookup } from './region_cache.js';
import { TxnClient, type TxnClientOptions, type TxnPd } from './txn/txn_client.js';
import { TlsFiles, type TlsOptions } from '../common/tls.js';
import type { KvConnectionOptions } from './kv_connection.js';

export interface CreateRawClientOptions extends RawClientOptions {
  /** "host:port", "a:2379,b:2379", a list of them, or a PdLookup to use as is. */
  pd: string | string[] | PdLookup;
  /** Options of the PD client opened for endpoints. */
  pdOptions?: PdClientOptions;
  /**
   * Mutual TLS to PD and the stores: file paths (reloaded when they change) or loaded
   * TlsFiles to share. The transactional client takes the same option.
   */
  tls?: TlsOptions | TlsFiles;
}

/** TLS files to use (loaded here when given as paths: then owned, closed with the client). */
function tlsFiles(tls: TlsOptions | TlsFiles | undefined): {
  files?: TlsFiles;
  owned?: TlsFiles;
} {
  if (tls === undefined) return {};
  if (tls instanceof TlsFiles) return { files: tls };
  const files = new TlsFiles(tls);
  return { files, owned: files };
}

/** PD client options for a client call budget: a call's timeoutMs covers its PD lookups. */
function pdClientOptions(
  timeoutMs: number | undefined,
  pdOptions: PdClientOptions | undefined,
  files: TlsFiles | undefined,
): PdClientOptions {
  const credentials = files?.channelCredentials();
  // Without the budget, a PD that is down held a call for the PD client's own default
  // (10 s) whatever the caller set.
  return {
    ...(timeoutMs !== undefined ? { timeoutMs, rpcTimeoutMs: Math.min(timeoutMs, 3000) } : {}),
    ...pdOptions,
    ...(credentials ? { credentials } : {}),
  };
}

export function createRawClient(options: CreateRawClientOptions): RawClient {
  return build(options, (pd, rest, onClose) => new RawClient(pd, rest, onClose));
}

export interface CreateTxnClientOptions extends TxnClientOptions {
  /** "host:port", "a:2379,b:2379", a list of them, or a PD lookup with timestamps. */
  pd: string | string[] | TxnPd;
  pdOptions?: PdClientOptions;
  /** Mutual TLS, as for createRawClient. */
  tls?: TlsOptions | TlsFiles;
}

/** Builds a TxnClient the same way: a PD client opened here is closed with it. */
export function createTxnClient(options: CreateTxnClientOptions): TxnClient {
  return build(options, (pd, rest, onClose) => new TxnClient(pd, rest, onClose));
}

/**
 * The two factories' one way: TLS loaded (and owned) here when given as paths, a PD client
 * opened for endpoints (closed with the client), or the caller's PD lookup used as is.
 */
function build<Pd, Opts extends { timeoutMs?: number; connection?: KvConnectionOptions }, C>(
  options: Opts & {
    pd: string | string[] | Pd;
    pdOptions?: PdClientOptions;
    tls?: TlsOptions | TlsFiles;
  },
  make: (pd: Pd | PdClient, rest: Opts, onClose: (() => void) | undefined) => C,
): C {
  const { pd, pdOptions, tls, ...rest } = options;
  // What is left once the factory's own three fields are taken out: the client's options.
  const opts = rest as unknown as Opts;
  const { files, owned } = tlsFiles(tls);
  const credentials = files?.channelCredentials();
  if (credentials) opts.connection = { ...opts.connection, credentials };
  if (typeof pd === 'string' || Array.isArray(pd)) {
    const client = PdClient.connect(pd, pdClientOptions(opts.timeoutMs, pdOptions, files));
    return make(client, opts, () => {
      client.close();
      owned?.close();
    });
  }
  return make(pd as Pd, opts, owned ? () => owned.close() : undefined);
}
