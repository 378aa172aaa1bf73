// The nemeses: each injects one fault chosen by the run's seeded generator and returns
// how to heal it. Faults are injected one at a time, so a heal never races another fault.
//   kill       kill -9 and restart: one store, the leader's store, PD, or everything
//   pause      SIGSTOP then SIGCONT, for 2–6 election timeouts: a store, the leader's store, PD
//   partition  through the transport failpoints (`transport_drop_to_store_<id>`): an
//              isolated leader, a majority/minority split, a leader that cannot send
//              (one-way out), a leader that cannot hear (one-way in)
//   transfer, split, move  (topology_nemesis.ts), merge (merge_nemesis.ts) and failpoint
//   (failpoint_nemesis.ts)
import type { SimRng } from '../sim/rng.js';
import { ELECTION_TIMEOUT_MS, type ChaosCluster } from './chaos_cluster.js';
import { failpointNemesis } from './failpoint_nemesis.js';
import { mergeNemesis } from './merge_nemesis.js';
import type { NemesisName } from './options.js';
import { moveNemesis, splitNemesis, transferNemesis } from './topology_nemesis.js';

export interface Fault {
  /** One line for the run's timeline. */
  description: string;
  /** How long the fault stays before heal() (ms). */
  holdMs: number;
  /** Undo the fault; a note (e.g. how a replica move ended) goes into the timeline. */
  heal(): Promise<HealNote | void>;
  /**
   * Why the fault did not happen (PD refused the operator, the failpoint was never hit):
   * the run goes on, and the timeline says so.
   */
  missed?: string;
  /**
   * A Region whose leader the fault took out: before the heal the runner looks for a new
   * leader elsewhere, as evidence that the fault did what it says (logged, not judged:
   * a short fault may heal before an election ends).
   */
  deposed?: { region: number; leader: string };
}

export interface HealNote {
  note: string;
  /** The fault turned out not to have happened after all (a move PD gave up on). */
  missed?: boolean;
}

/** What the nemeses know of the workload. */
export interface NemesisContext {
  /** The workload's keys: a split cuts the key space between them. */
  keys: readonly string[];
}

export interface Nemesis {
  name: NemesisName;
  /** Nemeses that act through failpoints need stores that accept them at run time. */
  needsFailpoints?: boolean;
  inject(rng: SimRng, cluster: ChaosCluster, ctx: NemesisContext): Promise<Fault>;
}

/** The store that leads a randomly chosen Region, or a random store if none is known. */
interface Leader {
  name: string;
  why: string;
  deposed?: { region: number; leader: string };
}

async function leaderStore(rng: SimRng, cluster: ChaosCluster): Promise<Leader> {
  const regions = await cluster.regionIds();
  if (regions.length > 0) {
    const region = rng.pick(regions);
    const leader = await cluster.leaderStoreOf(region);
    if (leader) {
      return { name: leader, why: `the leader of region ${region}`, deposed: { region, leader } };
    }
  }
  return { name: rng.pick(cluster.storeNames()), why: 'a store (no leader known)' };
}

async function target(
  rng: SimRng,
  cluster: ChaosCluster,
  kinds: Record<string, number>,
): Promise<{ kind: string; names: string[]; what: string; deposed?: Leader['deposed'] }> {
  const kind = rng.weighted(kinds);
  switch (kind) {
    case 'store': {
      const name = rng.pick(cluster.storeNames());
      return { kind, names: [name], what: name };
    }
    case 'leader': {
      const l = await leaderStore(rng, cluster);
      return { kind, names: [l.name], what: `${l.name} (${l.why})`, deposed: l.deposed };
    }
    case 'pd':
      return { kind, names: ['pd'], what: 'pd' };
    case 'all':
      return { kind, names: ['pd', ...cluster.storeNames()], what: 'every process' };
  }
  throw new Error(`unknown target kind ${kind}`);
}

export const killNemesis: Nemesis = {
  name: 'kill',
  async inject(rng, cluster) {
    const t = await target(rng, cluster, { store: 3, leader: 4, pd: 2, all: 1 });
    await Promise.all(t.names.map((n) => cluster.kill(n)));
    return {
      description: `kill -9 ${t.what}`,
      holdMs: rng.int(500, 4000),
      deposed: t.deposed,
      async heal() {
        // PD first, then the stores together (as a cluster comes up after a power loss).
        if (t.names.includes('pd')) await cluster.restart('pd');
        await Promise.all(t.names.filter((n) => n !== 'pd').map((n) => cluster.restart(n)));
      },
    };
  },
};

export const pauseNemesis: Nemesis = {
  name: 'pause',
  async inject(rng, cluster) {
    const t = await target(rng, cluster, { store: 3, leader: 4, pd: 1 });
    const name = t.names[0]!;
    cluster.pause(name);
    // Longer than an election timeout, so the others elect a new leader while the paused
    // one still believes it leads (and, for a leader, holds a lease that expired).
    const holdMs = rng.int(2, 6) * ELECTION_TIMEOUT_MS;
    return {
      description: `SIGSTOP ${t.what} for ${holdMs} ms`,
      holdMs,
      deposed: t.deposed,
      async heal() {
        cluster.resume(name);
      },
    };
  },
};

function shuffle<T>(rng: SimRng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Both directions between every store of `a` and every store of `b`. */
async function cut(cluster: ChaosCluster, a: string[], b: string[]): Promise<void> {
  for (const x of a) {
    for (const y of b) {
      await cluster.dropMessages(x, y);
      await cluster.dropMessages(y, x);
    }
  }
}

export const partitionNemesis: Nemesis = {
  name: 'partition',
  needsFailpoints: true,
  async inject(rng, cluster) {
    const stores = cluster.storeNames();
    const kind = rng.weighted({ isolate: 3, split: 2, 'one-way-out': 2, 'one-way-in': 2 });
    let description: string;
    let deposed: Leader['deposed'];
    if (kind === 'split') {
      // A random minority (at most half, at least one) against the rest.
      const shuffled = shuffle(rng, stores);
      const minority = shuffled.slice(0, rng.int(1, Math.floor((stores.length - 1) / 2)));
      const majority = shuffled.filter((s) => !minority.includes(s));
      await cut(cluster, minority, majority);
      description = `partition ${minority.join(',')} | ${majority.join(',')}`;
    } else {
      const l = await leaderStore(rng, cluster);
      const [leader, why] = [l.name, l.why];
      deposed = l.deposed;
      const others = stores.filter((s) => s !== leader);
      if (kind === 'isolate') {
        await cut(cluster, [leader], others);
        description = `isolate ${leader} (${why}) from ${others.join(',')}`;
      } else if (kind === 'one-way-out') {
        for (const o of others) await cluster.dropMessages(leader, o);
        description = `${leader} (${why}) cannot send to ${others.join(',')} (one-way)`;
      } else {
        for (const o of others) await cluster.dropMessages(o, leader);
        description = `${leader} (${why}) hears nothing from ${others.join(',')} (one-way)`;
      }
    }
    return {
      description,
      holdMs: rng.int(2000, 6000),
      deposed,
      heal: () => cluster.clearFailpoints(),
    };
  },
};

export const NEMESIS_BY_NAME: Record<NemesisName, Nemesis> = {
  kill: killNemesis,
  pause: pauseNemesis,
  partition: partitionNemesis,
  transfer: transferNemesis,
  split: splitNemesis,
  move: moveNemesis,
  failpoint: failpointNemesis,
  merge: mergeNemesis,
};
