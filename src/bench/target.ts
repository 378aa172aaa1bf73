// The store under test, as the load generator sees it: one key read or written per call,
// exactly as an application would call its client. A NyxDB RawClient fits as is; the etcd
// reference wraps its gRPC stubs in the same shape, so both runs share every other line.

export interface KvTarget {
  put(key: Buffer, value: Buffer): Promise<unknown>;
  get(key: Buffer): Promise<unknown>;
  /** Bulk load for preloading, if the store has one; else preload uses concurrent puts. */
  batchPut?(pairs: [Buffer, Buffer][]): Promise<unknown>;
}
