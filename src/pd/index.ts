// The Placement Driver's transport-free core.
export * from './errors.js';
export * from './types.js';
export * from './timestamp.js';
export * from './meta_store.js';
export * from './id_allocator.js';
export * from './tso.js';
export * from './tso_rate_limiter.js';
export * from './identity.js';
export * from './raft_timing.js';
export * from './trust_limits.js';
export * from './region_tree.js';
export * from './initial_regions.js';
export * from './cluster.js';
export * from './placement_driver.js';
