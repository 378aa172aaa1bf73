// A replica that was removed while it could not hear about it (TiKV's stale peer check).
// The leader stops talking to a peer once the conf change that removed it applies, so the
// peer may never apply that change itself; it just stops hearing from any leader. After a
// while of silence it asks PD for the Region: when PD's Region is at a newer conf_ver and
// does not list this peer, the replica is gone for good and destroys itself (tombstone
// included, peer_destroy.ts). PD's map can only lag the truth, never run ahead of it, so
// a Region that still lists us (or PD does not know) keeps the peer.
import { Region } from '../region/meta.js';
import type { RaftStore } from './raft_store.js';

export function isRemovedByPd(local: Region, peerId: number, pd: Region | undefined): boolean {
  if (!pd || pd.id !== local.id) return false;
  if (pd.epoch.confVer <= local.epoch.confVer) return false;
  return !pd.peers.some((p) => p.id === peerId);
}

export class StalePeerChecker {
  private running = false;

  constructor(
    private readonly store: RaftStore,
    private readonly getRegion: (id: number) => Promise<Region | undefined>,
    /** Ticks without a leader's message before a peer asks PD. */
    private readonly silentTicks: number,
    private readonly log: (obj: object, msg: string) => void,
  ) {}

  async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const p of [...this.store.peers.values()]) {
        if (p.isLeader() || p.leaderSilentTicks < this.silentTicks) continue;
        let pd: Region | undefined;
        try {
          pd = await this.getRegion(p.regionId);
        } catch (e) {
          this.log({ regionId: p.regionId, err: (e as Error).message }, 'stale peer check failed');
          continue;
        }
        if (this.store.peers.get(p.regionId) !== p) continue;
        if (isRemovedByPd(p.region, p.peerId, pd)) {
          this.log(
            { regionId: p.regionId, local: p.region.epoch, pd: pd!.epoch },
            'PD has a newer membership without this peer',
          );
          // Tombstone at PD's epoch: no message up to it may bring the replica back.
          p.region = { ...p.region, epoch: { ...pd!.epoch } };
          this.store.destroyPeer(p.regionId, 'removed while away (PD says so)', {
            appliedEnd: false,
          });
        }
      }
    } finally {
      this.running = false;
    }
  }
}
