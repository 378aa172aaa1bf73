// The Region leader's side of PD's operator steps (TiKV's on_region_heartbeat_response):
// a step arrives on the heartbeat stream, and the leader carries it out through Raft —
// a conf change entry (conf_change.ts) or a leadership transfer. Only the leader acts,
// and only on a step computed against the epoch it has now: a step of another epoch is
// stale and dropped, and PD re-sends a fresh one after the next heartbeat. Nothing waits
// for the outcome here; PD sees it in the heartbeats that follow.
import { ConfChangeType, NONE, ProposalDroppedError } from '../raft/index.js';
import { Peer, RegionEpoch, epochEqual } from '../region/meta.js';
import { ConfChangeRefusedError, type RegionPeer } from './peer.js';
import { RegionError } from '../region/errors.js';
import { PeerChange } from './conf_change.js';
import type { RaftStore } from './raft_store.js';

/** A membership or leadership step PD sent for a Region this store leads. */
export interface OperatorInstruction {
  regionId: number;
  epoch: RegionEpoch;
  changePeer?: { peer: Peer; changeType: 'AddNode' | 'RemoveNode' | 'AddLearnerNode' };
  changePeerV2?: {
    changes: { peer: Peer; changeType: 'AddNode' | 'RemoveNode' | 'AddLearnerNode' }[];
  };
  transferLeader?: { peer: Peer };
}

/** Largest log lag of a transfer target (thesis §3.10: it must catch up within a timeout). */
export const MAX_TRANSFER_LAG = 256;

const TYPES: Record<string, ConfChangeType> = {
  AddNode: ConfChangeType.AddNode,
  RemoveNode: ConfChangeType.RemoveNode,
  AddLearnerNode: ConfChangeType.AddLearnerNode,
};

/**
 * A leader's refusal of an operator step (an unsafe or concurrent change, a proposal Raft
 * drops, no longer leader): an outcome PD sees and plans around, never a store error.
 */
export function isStepRefusal(e: unknown): boolean {
  return (
    e instanceof ConfChangeRefusedError ||
    e instanceof ProposalDroppedError ||
    e instanceof RegionError
  );
}

export class OperatorExecutor {
  /** Regions with a transfer started here: watched until it ends (afterTurn). */
  private readonly transfers = new Set<number>();

  constructor(
    private readonly store: RaftStore,
    private readonly log: (obj: object, msg: string) => void,
    /** Report a Region to PD now (its heartbeat is when PD re-sends a step). */
    private readonly report: (peer: RegionPeer) => void = () => undefined,
  ) {}

  /**
   * After each loop turn: a transfer Raft abandoned (the target did not catch up or win
   * within an election timeout, §3.10) is reported at once, so PD sends it again after
   * its resend interval rather than at the next periodic heartbeat.
   */
  afterTurn(): void {
    for (const id of this.transfers) {
      const p = this.store.peers.get(id);
      if (!p || !p.isLeader()) {
        this.transfers.delete(id);
        continue;
      }
      if (p.node.raft.leadTransferee === NONE) {
        this.transfers.delete(id);
        this.log({ regionId: id }, 'leader transfer abandoned');
        this.report(p);
      }
    }
  }

  /** Carry out the step if this store leads the Region at the step's epoch; else drop it. */
  execute(i: OperatorInstruction): void {
    const peer = this.store.peers.get(i.regionId);
    if (!peer || !peer.isLeader()) return; // PD re-sends to the leader it learns of
    if (!epochEqual(peer.region.epoch, i.epoch)) {
      this.log(
        { regionId: i.regionId, epoch: peer.region.epoch, stepEpoch: i.epoch },
        'operator step of another epoch ignored',
      );
      return;
    }
    try {
      if (i.transferLeader) {
        peer.transferLeader(i.transferLeader.peer.id, MAX_TRANSFER_LAG);
        this.transfers.add(i.regionId);
        this.log({ regionId: i.regionId, to: i.transferLeader.peer.id }, 'leader transfer started');
      } else {
        const raw = i.changePeerV2?.changes ?? (i.changePeer ? [i.changePeer] : []);
        if (raw.length === 0) return;
        const changes: PeerChange[] = raw.map((c) => ({
          peer: { id: c.peer.id, storeId: c.peer.storeId },
          type: TYPES[c.changeType]!,
        }));
        peer.proposeConfChange(changes);
        this.log(
          {
            regionId: i.regionId,
            confVer: peer.region.epoch.confVer,
            changes: changes.map((c) => `${c.type} ${c.peer.id}@${c.peer.storeId}`),
          },
          'conf change proposed',
        );
      }
    } catch (e) {
      if (!isStepRefusal(e)) throw e;
      this.log({ regionId: i.regionId, err: (e as Error).message }, 'operator step refused');
      return;
    }
    this.store.schedule();
  }
}
