// Builds a RawClient from PD endpoints (the usual case) or from any PdLookup (tests,
// tools that already hold a PD client). A PD client opened here is closed with the
// RawClient; one passed in belongs to the caller.
import { PdClient, type PdClientOptions } from './pd_client.js';
import { RawClient, type RawClientOptions } from './raw_client.js';
import type { PdLookup } from './region_cache.js';
import { TlsFiles, type TlsOptions } from '../common/tls.js';

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

export function createRawClient(options: CreateRawClientOptions): RawClient {
  const { pd, pdOptions, tls, ...rest } = options;
  const files = tls === undefined || tls instanceof TlsFiles ? tls : new TlsFiles(tls);
  const owned = files !== tls ? files : undefined;
  const credentials = files?.channelCredentials();
  if (credentials) rest.connection = { ...rest.connection, credentials };
  if (typeof pd === 'string' || Array.isArray(pd)) {
    const client = PdClient.connect(pd, { ...pdOptions, ...(credentials ? { credentials } : {}) });
    return new RawClient(client, rest, () => {
      client.close();
      owned?.close();
    });
  }
  return new RawClient(pd, rest, owned ? () => owned.close() : undefined);
}
