// The public surface of the NyxDB package.
export * as raft from './raft/index.js';
export * as client from './client/index.js';
