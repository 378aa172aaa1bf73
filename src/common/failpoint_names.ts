// Every failpoint a NyxDB process has, in one place. A failpoint marks a crash window: a
// point between two steps whose order durability depends on (TiKV's fail-rs points and
// etcd's gofail points serve the same purpose). Setting a name that is not here is an
// error, so a typo in a test cannot silently test nothing.
//
// Where a name is hit and what happens there when its action fires (see failpoint.ts for
// the actions themselves). `return` at these points throws an injected error, which each
// site treats like the real I/O error it stands for.

export const FAILPOINT_NAMES = [
  // Store loop (store/raft_store.ts, finishTurn): the turn's Readies are collected and a
  // leader's appends have already left (thesis §10.2.1), but nothing of this turn is in
  // the Raft log yet. A crash here loses only unacknowledged entries; followers may hold
  // entries their leader does not. `return` = a failed log write: the store stops.
  'raft_log_before_write',
  // Store loop: the turn's entries and hard states are fsynced, but no acknowledgement
  // (append/vote response) has left and nothing of the turn is applied. A crash here must
  // lose nothing: a restart recovers the entries from the log.
  'raft_log_after_write',
  // Store loop: a peer's committed entries are about to be applied to its Region engine
  // (only hit when there is something to apply). Nothing of them is applied; a restart
  // replays them from the log.
  'apply_before',
  // Store loop: a peer's committed entries and its new apply index are committed to the
  // Region engine; Raft has not been advanced past them. A restart must not apply them
  // twice (the apply index lives in the same transaction).
  'apply_after',
  // Leader side (store/snap_transfer.ts, sendSnapshot): after each chunk of a snapshot
  // file is handed to the Snapshot stream. `return` = a broken stream: the send is
  // cancelled and reported to Raft as failed.
  'snapshot_send_mid',
  // Receiver side (store/snap_transfer.ts, receiveSnapshot): before each chunk is written
  // to the partial file under snap/. `return` = a corrupt stream: the partial file is
  // removed and the sender told. A crash leaves the partial file behind.
  'snapshot_receive_mid',
  // Receiver side (server/store_server.ts, applySnapshotData): the snapshot's data is in
  // the Region engine, but the Raft log does not record the snapshot yet. A crash leaves
  // an engine ahead of its log, which restart must reconcile.
  'snapshot_install_mid',
  // PD (pd/meta_store.ts): before each write to pd.db (stores, Regions, cluster meta, the
  // id and TSO high-water marks). `return` = a failed write: the request fails.
  'pd_meta_before_write',
  // PD: after each write statement to pd.db. Outside a transaction the write is durable
  // here; inside one (bootstrap, a Region replacing others) it is not committed yet.
  'pd_meta_after_write',
  // PD (pd/tso.ts, ensureWindow): a new TSO window bound is about to be persisted; no
  // timestamp above the old bound has been served. `return` = the bound cannot be saved:
  // timestamps are refused until it can.
  'tso_window_persist',
  // Split apply (store/split_apply.ts; the crash reasoning is there). Before each new
  // Region's copy: the batch before the split entry is committed, the parent is whole.
  'split_copy_before',
  // Every new Region's file is complete (data, sessions, meta at the initial index), the
  // parent still covers their ranges: a restart must not load them, and replays the split.
  'split_copy_after',
  // The parent is cut and its new meta and apply index committed; no peer of a new
  // Region exists yet. A restart loads the new Regions from their files.
  'split_parent_after',
  // Merge apply on a target replica (store/merge_apply.ts; the crash reasoning is there).
  // The local source replica has applied up to its PrepareMerge (caught up from the
  // CommitMerge's entries if it lagged) and that is committed; nothing was copied yet.
  'merge_copy_before',
  // The source's rows are in the target's file, but the target's meta and apply index
  // are not: a restart replays the CommitMerge, which copies again.
  'merge_copy_after',
  // The target covers both ranges (meta, version, apply index committed); the source
  // replica is not destroyed yet: a restart destroys it (PeerLoader.loadAll).
  'merge_target_after',
  // Conf change (store/raft_store.ts, after apply): the Region's new peers and conf_ver
  // are committed with the entry's apply index; nothing else happened yet (no report to
  // PD; a replica the change removed has not destroyed itself). A restart loads the new
  // meta; a removed replica finds itself absent from it and finishes its destroy.
  'conf_change_apply_after',
  // Peer destroy (store/peer_destroy.ts): the tombstone and the deletion of the Region's
  // Raft log are committed in one transaction; the Region file still exists. A restart
  // sees the tombstone and deletes the file.
  'peer_destroy_before_delete',
] as const;

// Not yet here because their code has not landed: merge and conf-change apply
// ('merge_apply_mid', 'conf_change_apply_mid'). Add each with its site.

export type StaticFailpointName = (typeof FAILPOINT_NAMES)[number];

/**
 * Transport faults, per destination store (store/transport.ts):
 *   transport_drop_to_store_<id>   `return` drops every Raft message and snapshot to that
 *                                  store; `N%return` drops that fraction.
 *   transport_delay_to_store_<id>  `sleep(ms)` delays them; `pause` holds them until the
 *                                  failpoint changes.
 */
export type TransportFailpointName =
  `transport_drop_to_store_${number}` | `transport_delay_to_store_${number}`;

export type FailpointName = StaticFailpointName | TransportFailpointName;

const STATIC = new Set<string>(FAILPOINT_NAMES);
const TRANSPORT = /^transport_(drop|delay)_to_store_[1-9][0-9]*$/;

export function isFailpointName(name: string): name is FailpointName {
  return STATIC.has(name) || TRANSPORT.test(name);
}

export function transportDropFailpoint(storeId: number): TransportFailpointName {
  return `transport_drop_to_store_${storeId}`;
}

export function transportDelayFailpoint(storeId: number): TransportFailpointName {
  return `transport_delay_to_store_${storeId}`;
}
