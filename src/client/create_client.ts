// Builds a RawClient from PD endpoints (the usual case) or from any PdLookup (tests,
// tools that already hold a PD client). A PD client opened here is closed with the
// RawClient; one passed in belongs to the caller.
import { PdClient, type PdClientOptions } from './pd_client.js';
import { RawClient, type RawClientOptions } from './raw_client.js';
import type { PdLookup } from './region_cache.js';

export interface CreateRawClientOptions extends RawClientOptions {
  /** "host:port", "a:2379,b:2379", a list of them, or a PdLookup to use as is. */
  pd: string | string[] | PdLookup;
  /** Options of the PD client opened for endpoints. */
  pdOptions?: PdClientOptions;
}

export function createRawClient(options: CreateRawClientOptions): RawClient {
  const { pd, pdOptions, ...rest } = options;
  if (typeof pd === 'string' || Array.isArray(pd)) {
    // A call's timeoutMs covers its PD lookups too: without this, a PD that is down
    // held a call for the PD client's own default budget (10 s) whatever the caller set.
    const budget = rest.timeoutMs;
    const client = PdClient.connect(pd, {
      ...(budget !== undefined ? { timeoutMs: budget, rpcTimeoutMs: Math.min(budget, 3000) } : {}),
      ...pdOptions,
    });
    return new RawClient(client, rest, () => client.close());
  }
  return new RawClient(pd, rest);
}
