// What a store keeps of a replica it destroyed (TiKV's Tombstone RegionLocalState), in the
// Raft log engine (region_tombstones): enough to refuse a late message that would bring the
// replica back (peer_creation.ts), to finish a destroy a crash cut short (peer_loader.ts),
// and to tell a fenced merge source whether its target can still commit (merge_runner.ts).

export interface Tombstone {
  /** The epoch the replica was destroyed at (never moves back, peer_destroy.ts). */
  confVer: number;
  version: number;
  /**
   * This store's peer in the Region when it was destroyed. Peer ids are never reused, so
   * a message to a higher id is for a new replica PD added since. 0: not recorded (a
   * tombstone written before ids were kept); the epoch alone then decides.
   */
  peerId: number;
  /**
   * Whether the replica applied its Region's log up to its own end — the conf change that
   * removed it, or the merge that took it in — so that its epoch is one that log reached
   * in order. A replica destroyed from outside (PD says it was removed, a snapshot of
   * another Region covers it) may have missed entries: its epoch says nothing about them.
   */
  appliedEnd: boolean;
}

/**
 * The tombstone after a second destroy. It never moves back (a late destroy of an older
 * replica must not re-open a newer one), and it claims an applied end only when one of
 * the two destroys had exactly the merged epoch and peer: a proof for a merge rollback
 * (merge_verdict.ts) must never come from mixing two replicas' facts.
 */
export function mergeTombstones(old: Tombstone | undefined, next: Tombstone): Tombstone {
  if (!old) return { ...next };
  const confVer = Math.max(old.confVer, next.confVer);
  const version = Math.max(old.version, next.version);
  const peerId = Math.max(old.peerId, next.peerId);
  const holds = (t: Tombstone) =>
    t.appliedEnd && t.peerId === peerId && t.confVer === confVer && t.version === version;
  return { confVer, version, peerId, appliedEnd: holds(next) || holds(old) };
}
