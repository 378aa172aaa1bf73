// Raft asks a leader's storage for a snapshot synchronously (Storage.snapshot(), as in
// etcd-io/raft) when a follower needs one. Built on the loop, a big Region's snapshot
// would stall every Region of the store; so, like etcd's raft allows and TiKV does (its
// snap generator runs in a worker pool), the first ask starts a build on a worker thread
// and answers "temporarily unavailable": Raft skips the follower and asks again on its
// next heartbeat response, by when the file is usually ready.
//
// A built snapshot is handed out once (the transport deletes the file after sending it).
// It is dropped and built again if the log was compacted past its index meanwhile: the
// follower could not continue from it with entries the leader no longer has.
import { SnapshotTemporarilyUnavailableError, type Snapshot } from '../raft/index.js';
import { unlinkIfExists } from '../storage/paths.js';
import { describeSnapshot, encodeSnapshotDescriptor } from '../storage/region_snapshot.js';
import type { ExportedSnapshot } from './snapshot_worker.js';
import type { Region } from '../region/meta.js';
import type { ConfState } from '../raft/index.js';

export interface OffLoopSnapshotOptions {
  /** Writes the file off the loop (snapshot_worker.ts). */
  exportOffLoop: () => Promise<ExportedSnapshot>;
  /** The index the Region's log is compacted to: a snapshot below it is useless. */
  truncatedIndex: () => number;
  /** Raft's configuration for a Region meta (peer_loader.ts confStateOf). */
  confStateOf: (region: Region) => ConfState;
  /** A build failed (logged by the store; the next ask starts another). */
  onError?: (e: Error) => void;
  /**
   * Whether the disk has room for the copy now (disk_usage.ts). Without it no build
   * starts: a copy that ran the disk out would fail anyway, and meanwhile take the room
   * the store's own Raft writes need. Raft asks again on a later heartbeat response.
   */
  roomToBuild?: () => boolean;
}

export class OffLoopSnapshotBuilder {
  private building = false;
  private ready: ExportedSnapshot | undefined;

  constructor(private readonly opts: OffLoopSnapshotOptions) {}

  /** Storage.snapshot(): a built snapshot, or SnapshotTemporarilyUnavailableError. */
  take(): Snapshot {
    const ready = this.ready;
    this.ready = undefined;
    if (ready && ready.info.applyState.appliedIndex >= this.opts.truncatedIndex()) {
      return {
        data: encodeSnapshotDescriptor(describeSnapshot(ready.info)),
        metadata: {
          index: ready.info.applyState.appliedIndex,
          term: ready.info.applyState.appliedTerm,
          // The configuration at the snapshot's index: the Region meta inside the file,
          // not the peer's current one (a conf change may have applied since).
          confState: this.opts.confStateOf(ready.region),
        },
      };
    }
    if (ready) unlinkIfExists(ready.info.path);
    if (!this.opts.roomToBuild || this.opts.roomToBuild()) this.start();
    throw new SnapshotTemporarilyUnavailableError();
  }

  /** A snapshot is being built now (for tests and status). */
  get isBuilding(): boolean {
    return this.building;
  }

  private start(): void {
    if (this.building) return;
    this.building = true;
    this.opts.exportOffLoop().then(
      (s) => {
        this.building = false;
        if (this.ready) unlinkIfExists(this.ready.info.path);
        this.ready = s;
      },
      (e: Error) => {
        this.building = false;
        this.opts.onError?.(e);
      },
    );
  }
}
