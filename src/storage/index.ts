// The storage layer: the store's Raft log engine and the per-Region KV engines.
export * from './errors.js';
export * from './paths.js';
export { SyncMode } from './sqlite.js';
export * from './entry_codec.js';
export * from './entry_cache.js';
export * from './raft_log_batch.js';
export * from './raft_log_state.js';
export * from './raft_log_view.js';
export * from './raft_log_engine.js';
export * from './region_state.js';
export { DATA_TABLES, TABLES, type DataTable, type Table, isTable } from './region_schema.js';
export * from './region_engine.js';
export * from './region_snapshot.js';
export * from './region_split.js';
export * from './region_engine_pool.js';
