// The public surface of the NyxDB package. The SDK's names are exported at the root
// (`import { createRawClient } from 'nyxdb'`) and, as before, under `client`; the Raft
// core under `raft`.
export * from './client/index.js';
export * as raft from './raft/index.js';
export * as client from './client/index.js';
