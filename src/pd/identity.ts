// Who is calling PD. With mutual TLS the transport fills this from the caller's
// certificate (a store's certificate names its store id); in plaintext mode it is
// undefined and PD can only apply rules that do not need to know the caller (see
// cluster.ts for what those rules cannot prevent).
import type { StoreId } from '../region/meta.js';

export interface CallerIdentity {
  /** The store the caller authenticated as. */
  storeId: StoreId;
}
