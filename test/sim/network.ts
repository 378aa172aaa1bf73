// The simulated network: which links are cut, and what happens to a message on a live
// link (loss, latency, extra delay, duplication). Reordering needs no rule of its own:
// every copy draws its own latency, so later messages often overtake earlier ones.
// Links are checked both when a message is sent and when it arrives, so a partition
// that forms while a message is in flight swallows it.
import { Message, MessageType, NodeId } from '../../src/raft/index.js';
import { SimRng } from './rng.js';

export class Network {
  /** Probability that a message is lost (chaos keeps it at or below 0.3). */
  dropRate = 0;
  /** Probability that a message arrives twice. */
  dupRate = 0;
  /** Probability that a copy gets up to maxExtraDelay on top of its latency. */
  delayRate = 0;
  maxExtraDelay = 0;
  /** Directed links from→to that are cut, keyed by linkKey. */
  private readonly cut = new Set<number>();
  /** Directed links down until a reconnect (a restarted peer's connection), by linkKey. */
  private readonly down = new Set<number>();

  constructor(
    readonly minLatency: number,
    readonly maxLatency: number,
  ) {}

  blocked(from: NodeId, to: NodeId): boolean {
    if (this.cut.size === 0 && this.down.size === 0) return false;
    const k = linkKey(from, to);
    return this.cut.has(k) || this.down.has(k);
  }

  /** from→to is down until reconnect(from, to); partitions and heals are separate. */
  disconnect(from: NodeId, to: NodeId): void {
    this.down.add(linkKey(from, to));
  }

  reconnect(from: NodeId, to: NodeId): void {
    this.down.delete(linkKey(from, to));
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(linkKey(from, to));
  }

  /** A symmetric partition: no traffic between the two sides. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a)
      for (const y of b) {
        this.cut.add(linkKey(x, y));
        this.cut.add(linkKey(y, x));
      }
  }

  healLinks(): void {
    this.cut.clear();
    this.down.clear();
  }

  /** No loss, duplication or extra delay (links are left as they are). */
  calm(): void {
    this.dropRate = 0;
    this.dupRate = 0;
    this.delayRate = 0;
    this.maxExtraDelay = 0;
  }

  /** The latencies of the copies of m that will arrive; empty when it is lost. */
  plan(rng: SimRng, m: Message): number[] {
    if (rng.chance(this.dropRate)) return [];
    const latency = () =>
      rng.int(this.minLatency, this.maxLatency) +
      (rng.chance(this.delayRate) ? rng.int(1, this.maxExtraDelay) : 0);
    const out = [latency()];
    // Snapshots travel on their own stream in a real system and are not duplicated.
    if (m.type !== MessageType.Snap && rng.chance(this.dupRate)) out.push(latency());
    return out;
  }

  describe(): string {
    const links = (set: Set<number>) =>
      [...set]
        .sort((a, b) => a - b)
        .map((k) => `${Math.floor(k / 1024)}>${k % 1024}`)
        .join(' ');
    return `drop=${this.dropRate.toFixed(2)} dup=${this.dupRate.toFixed(2)} delay=${this.delayRate.toFixed(2)}/${this.maxExtraDelay} cut=[${links(this.cut)}] down=[${links(this.down)}]`;
  }
}

function linkKey(from: NodeId, to: NodeId): number {
  return from * 1024 + to;
}
