// Whether other stores are alive, as this store hears them: the cheap store-level signal
// that lets a sleeping follower tell "my leader is asleep" from "my leader is gone"
// (TiKV's hibernate Regions rely on the stores' connections the same way). Every batch
// that arrives from a store, and the store heartbeats that stores with sleeping leaders
// send (hibernation.ts), count as hearing from it. A store not heard from for deadMs is
// taken as dead: its sleeping followers here wake and, hearing no leader, campaign.
//
// Taking a live store for dead only costs a needless wake-up (the followers tick, the
// leader's heartbeats or their pre-votes wake the group, and it sleeps again); it never
// costs safety, which rests on Raft's terms and the leader lease alone.
export class PeerStoreLiveness {
  private readonly heardAt = new Map<number, number>();

  constructor(
    /** Silence after which a store is taken as dead. */
    readonly deadMs: number,
    private readonly now: () => number,
  ) {
    if (!(deadMs > 0)) throw new Error(`store dead time must be positive, got ${deadMs}`);
  }

  /** Something arrived from `storeId` just now. */
  heard(storeId: number): void {
    this.heardAt.set(storeId, this.now());
  }

  /** Whether `storeId` was heard from within deadMs (never heard: dead). */
  isAlive(storeId: number): boolean {
    const t = this.heardAt.get(storeId);
    return t !== undefined && this.now() - t < this.deadMs;
  }
}
