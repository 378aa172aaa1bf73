// The durable storage of a simulated node: a MemoryStorage whose snapshot is generated
// on demand, as TiKV and etcd-server do. When the leader needs a snapshot for a lagging
// or new follower, the application builds one from its state machine at the applied
// index, with the configuration as of that index. Serving only the last periodic
// snapshot would not do: a node added after that snapshot is not in its ConfState and
// would (rightly) refuse it, and could never join.
import { ConfState, MemoryStorage, Snapshot } from '../../src/raft/index.js';

export interface SnapshotSource {
  /** The applied index, the configuration and the serialized state machine there. */
  current(): { index: number; cs: ConfState; data: Uint8Array };
}

export class SimStorage extends MemoryStorage {
  source: SnapshotSource | undefined = undefined;

  constructor(
    /** Regenerate even when only the data is newer (else only when the config changed). */
    private readonly always: boolean,
  ) {
    super();
  }

  override snapshot(): Snapshot {
    const snap = super.snapshot();
    const cur = this.source?.current();
    if (!cur || cur.index <= snap.metadata.index) return snap;
    if (!this.always && sameConf(cur.cs, snap.metadata.confState)) return snap;
    return this.createSnapshot(cur.index, cur.cs, cur.data);
  }
}

function sameConf(a: ConfState, b: ConfState): boolean {
  const s = (x: number[]) => [...x].sort((p, q) => p - q).join(',');
  return (
    s(a.voters) === s(b.voters) &&
    s(a.votersOutgoing) === s(b.votersOutgoing) &&
    s(a.learners) === s(b.learners) &&
    s(a.learnersNext) === s(b.learnersNext) &&
    a.autoLeave === b.autoLeave
  );
}
