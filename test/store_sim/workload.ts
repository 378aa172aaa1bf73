// Simulated RawKV clients. Each is one sequential process issuing get/put/cas/delete on a few
// keys to the store it believes leads the key's Region, over the simulated network, and
// recording every call in a history for the linearizability checker:
// - an answer is recorded with its call and return virtual times;
// - a failure the store promises had no effect (NotLeader, EpochNotMatch, StaleCommand, a
//   busy refusal before proposing, the store being down) is left out — that promise is
//   itself under test: if such a write took effect, the history stops being linearizable;
// - anything else (a timeout, a lost answer, a store stopping under the request) is
//   indeterminate: the write may or may not apply, later. The client then continues as a
//   new process (Porcupine/Jepsen convention), since it never learned when the call ended.
import { RegionError } from '../../src/region/errors.js';
import { Region, isEpochStale, keyInRegion, rangesOverlap } from '../../src/region/meta.js';
import type { KvInput, KvOperation, KvOutput, Value } from '../check/history.js';
import { RawClient } from '../../src/client/raw_client.js';
import { SimCluster } from './cluster.js';
import { SimKvChannels } from './sim_kv_channels.js';
import { SimWorld, WORLD, simClientClock } from './world.js';

/** A client gives up on a call after this long (virtual ms) and treats it as indeterminate. */
const CLIENT_TIMEOUT_MS = 300;

export interface WorkloadOptions {
  clients: number;
  /** How many of the clients are the SDK's RawClient (the others send requests directly). */
  sdkClients: number;
  keys: string[];
  regions: Region[];
}

interface OpenCall {
  op: KvOperation;
  settled: boolean;
}

export class Workload {
  readonly history: KvOperation[] = [];
  private nextId = 1;
  private stopped = false;
  /** Per Region, the store a client last heard leads it. */
  private readonly leaderHint = new Map<number, number>();
  succeeded = 0;
  definiteFailures = 0;
  indeterminate = 0;
  /** Successful calls per Region since markHealed(), for the liveness check. */
  readonly okSinceHeal = new Map<number, number>();
  private healed = false;
  private readonly open = new Set<(o: Outcome) => void>();
  private regions: Region[];

  constructor(
    private readonly world: SimWorld,
    private readonly cluster: SimCluster,
    private readonly opts: WorkloadOptions,
  ) {
    this.regions = [...opts.regions];
  }

  start(): void {
    const channels = new SimKvChannels(this.cluster);
    const clock = simClientClock(this.world);
    for (let c = 0; c < this.opts.clients; c++) {
      const sdk =
        c < this.opts.sdkClients
          ? new RawClient(this.cluster.pd, {
              ...SIM_RAW_CLIENT,
              channels,
              clock,
              sessionId: Buffer.from(`sim-session-${c}`.padEnd(16, '.')),
            })
          : undefined;
      const client = { process: c * 1000, writes: 0, lastSeen: new Map<string, Value>(), sdk };
      this.world.after(this.world.rng.float() * 10, WORLD, `client ${c} starts`, () =>
        this.next(client),
      );
    }
  }

  /** No new calls; calls still open at the end are indeterminate (a write may yet apply). */
  stop(): void {
    this.stopped = true;
    for (const finish of [...this.open]) finish({ kind: 'lost', why: 'still open at the end' });
  }

  markHealed(): void {
    this.healed = true;
    this.okSinceHeal.clear();
  }

  /**
   * The client's Region cache: the Region it believes holds `key`. Splits make entries
   * stale; EpochNotMatch brings the Regions as they are now (learn()), and a key the cache
   * has no Region for is looked up in PD's map (the cluster's newest Regions).
   */
  private regionOf(key: string): Region {
    const k = Buffer.from(key);
    const find = () => this.regions.find((r) => keyInRegion(k, r));
    let r = find();
    if (!r) {
      for (const fresh of this.cluster.newestRegions()) this.learn(fresh);
      r = find();
    }
    if (!r) {
      const known = this.cluster
        .newestRegions()
        .map((x) => `${x.id}[${x.startKey.toString()},${x.endKey.toString()})v${x.epoch.version}`);
      throw new Error(`no region holds ${key}; PD's map: ${known.join(' ') || 'empty'}`);
    }
    return r;
  }

  /** Put a Region in the cache in place of the entries it overlaps, unless one is newer. */
  private learn(r: Region): void {
    const older = this.regions.filter((c) => rangesOverlap(c, r));
    // Newer: a higher version (a split or merge), or the same Region at a higher conf_ver.
    const newer = (c: Region) =>
      c.epoch.version > r.epoch.version || (c.id === r.id && isEpochStale(r.epoch, c.epoch));
    if (older.some(newer)) return;
    this.regions = this.regions.filter((c) => !rangesOverlap(c, r) && c.id !== r.id).concat([r]);
  }

  private next(client: ClientState): void {
    if (this.stopped) return;
    const w = this.world;
    const rng = w.rng;
    const key = rng.pick(this.opts.keys);
    const region = this.regionOf(key);
    let input: KvInput;
    switch (rng.weighted({ get: 4, put: 3, cas: 2, delete: 1 })) {
      case 'get':
        input = { f: 'get', key };
        break;
      case 'put':
        input = { f: 'put', key, value: `c${client.process}-${++client.writes}` };
        break;
      case 'cas': {
        const expected = rng.chance(0.7) ? (client.lastSeen.get(key) ?? null) : null;
        input = { f: 'cas', key, expected, value: `c${client.process}-${++client.writes}` };
        break;
      }
      default:
        input = { f: 'delete', key };
    }
    const ids = [...this.cluster.stores.keys()];
    const hint = this.leaderHint.get(region.id);
    const target = client.sdk ? SDK : hint !== undefined && rng.chance(0.6) ? hint : rng.pick(ids);
    const op: KvOperation = {
      id: this.nextId++,
      client: client.process,
      input,
      output: undefined,
      call: w.now,
      ret: Infinity,
    };
    const call: OpenCall = { op, settled: false };
    const finish = (outcome: Outcome) => {
      if (call.settled) return;
      call.settled = true;
      this.open.delete(finish);
      this.record(client, region, call, outcome, target);
      if (this.stopped) return;
      w.after(rng.float() * 20, WORLD, `client ${client.process} thinks`, () => this.next(client));
    };
    this.open.add(finish);
    if (client.sdk) {
      // The SDK routes, retries and gives up by itself (its own deadline): whatever it
      // throws leaves a write's outcome unknown (test/chaos/outcome.ts), a read's moot.
      this.invoke(client.sdk, key, input).then(
        (out) => finish({ kind: 'ok', out }),
        (err: Error) => finish({ kind: 'lost', why: `${err.name}: ${err.message}` }),
      );
      return;
    }
    w.after(CLIENT_TIMEOUT_MS, WORLD, `client ${client.process} op ${op.id} times out`, () =>
      finish({ kind: 'lost', why: 'client timeout' }),
    );
    // The request travels to the store; the store's process runs it (held if paused).
    w.at(
      w.now + this.cluster.latency(),
      target,
      `client ${client.process} op ${op.id} ${input.f} ${key} arrives`,
      () => this.serve(target, region, input, finish),
      -1,
    );
  }

  /** The request reached store `target`: run it through RawKv and send back the answer. */
  private serve(
    target: number,
    region: Region,
    input: KvInput,
    finish: (o: Outcome) => void,
  ): void {
    const w = this.world;
    const s = this.cluster.stores.get(target)!;
    const incarnation = w.incarnation(target);
    const reply = (o: Outcome) => {
      // The answer travels back unless the network loses it or the store died meanwhile.
      if (incarnation !== w.incarnation(target) || w.rng.chance(this.cluster.net.dropRate)) {
        return;
      }
      w.after(this.cluster.latency(), WORLD, `answer to op`, () => finish(o));
    };
    if (!s.up) {
      // Connection refused: the request never reached a store.
      w.after(this.cluster.latency(), WORLD, 'refused', () =>
        finish({ kind: 'refused', err: new Error('connection refused') }),
      );
      return;
    }
    const ctx = { regionId: region.id, epoch: region.epoch, storeId: target };
    const key = Buffer.from(input.key);
    let p: Promise<KvOutput>;
    try {
      p = this.invokeStore(s.kv, ctx, key, input);
    } catch (e) {
      reply({ kind: 'refused', err: e as Error });
      return;
    }
    p.then(
      (out) => reply({ kind: 'ok', out }),
      (err: Error) =>
        reply(
          isDefiniteFailure(err) ? { kind: 'refused', err } : { kind: 'lost', why: err.message },
        ),
    );
  }

  /** One call through the SDK. */
  private invoke(sdk: RawClient, key: string, input: KvInput): Promise<KvOutput> {
    switch (input.f) {
      case 'get':
        return sdk.get(key).then((v) => ({ f: 'get', value: v ? v.toString() : null }));
      case 'put':
        return sdk.put(key, input.value).then(() => ({ f: 'put' }));
      case 'delete':
        return sdk.delete(key).then(() => ({ f: 'delete' }));
      case 'cas':
        return sdk.compareAndSwap(key, input.expected, input.value).then((r) => ({
          f: 'cas',
          succeeded: r.succeeded,
          previous: r.previous ? r.previous.toString() : null,
        }));
    }
  }

  /** One request straight to a store's RawKv. */
  private invokeStore(
    kv: SimKv,
    ctx: { regionId: number; epoch: Region['epoch']; storeId: number },
    key: Buffer,
    input: KvInput,
  ): Promise<KvOutput> {
    switch (input.f) {
      case 'get':
        return kv.get(ctx, key).then((v) => ({ f: 'get', value: v ? v.toString() : null }));
      case 'put':
        return kv.put(ctx, key, Buffer.from(input.value)).then(() => ({ f: 'put' }));
      case 'delete':
        return kv.delete(ctx, key).then(() => ({ f: 'delete' }));
      case 'cas':
        return kv
          .compareAndSwap(
            ctx,
            key,
            input.expected === null ? null : Buffer.from(input.expected),
            Buffer.from(input.value),
          )
          .then((r) => ({
            f: 'cas',
            succeeded: r.succeeded,
            previous: r.previous ? r.previous.toString() : null,
          }));
    }
  }

  private record(
    client: ClientState,
    region: Region,
    call: OpenCall,
    outcome: Outcome,
    target: number,
  ): void {
    const op = call.op;
    const w = this.world;
    w.trace?.(
      `${w.now.toFixed(3)} client ${op.client} op ${op.id} ${JSON.stringify(op.input)} ${target === SDK ? 'through the SDK' : `at store ${target}`}: ` +
        (outcome.kind === 'ok'
          ? `ok ${JSON.stringify(outcome.out)}`
          : outcome.kind === 'refused'
            ? `refused (${outcome.err.message})`
            : `lost (${outcome.why})`),
    );
    if (outcome.kind === 'ok') {
      op.output = outcome.out;
      op.ret = w.now;
      this.history.push(op);
      this.succeeded++;
      if (target !== SDK) this.leaderHint.set(region.id, target);
      if (this.healed) this.okSinceHeal.set(region.id, (this.okSinceHeal.get(region.id) ?? 0) + 1);
      if (op.output.f === 'get') client.lastSeen.set(op.input.key, op.output.value);
      if (op.output.f === 'cas') {
        const swappedTo = op.output.succeeded && op.input.f === 'cas' ? op.input.value : undefined;
        client.lastSeen.set(op.input.key, swappedTo ?? op.output.previous);
      }
      return;
    }
    if (outcome.kind === 'refused') {
      this.definiteFailures++;
      const err = outcome.err;
      if (err instanceof RegionError && err.detail.kind === 'EpochNotMatch') {
        for (const r of err.detail.currentRegions) this.learn(r);
      } else if (
        err instanceof RegionError &&
        (err.detail.kind === 'KeyNotInRegion' || err.detail.kind === 'RegionNotFound')
      ) {
        this.regions = this.regions.filter((r) => r.id !== region.id);
      }
      const leader = leaderHintOf(outcome.err);
      if (leader !== undefined) this.leaderHint.set(region.id, leader);
      else this.leaderHint.delete(region.id);
      return;
    }
    this.leaderHint.delete(region.id);
    // A read that failed had no effect: it stays out of the history.
    if (op.input.f === 'get') return;
    op.error = outcome.why;
    this.history.push(op);
    this.indeterminate++;
    // The client never learned when this call ended: continue as a new process.
    client.process++;
  }
}

type Outcome =
  { kind: 'ok'; out: KvOutput } | { kind: 'refused'; err: Error } | { kind: 'lost'; why: string };

interface ClientState {
  process: number;
  writes: number;
  lastSeen: Map<string, Value>;
  /** The SDK client this one calls through, or undefined: it sends to stores itself. */
  sdk: RawClient | undefined;
}

/** The "store" an SDK call went to: the SDK chose (and may have retried on others). */
const SDK = -1;

/** The SDK's timing scaled to the simulation's 20 ms Raft tick (production: 100 ms). */
const SIM_RAW_CLIENT = { timeoutMs: 1_000, rpcTimeoutMs: CLIENT_TIMEOUT_MS };

type SimKv = import('../../src/store/raw_kv.js').RawKv;

/**
 * Errors with which the store promises the write did not and will not take effect
 * (raft_store / peer.ts / proposal_queue.ts): refused before it was proposed, or its log
 * slot was taken by another leader's entry. A timeout or a store stopping is not one.
 */
function isDefiniteFailure(err: Error): boolean {
  if (!(err instanceof RegionError)) return false;
  switch (err.detail.kind) {
    case 'NotLeader':
    case 'EpochNotMatch':
    case 'StaleCommand':
    case 'KeyNotInRegion':
    case 'RegionNotFound':
    case 'StoreNotMatch':
      return true;
    case 'ServerIsBusy':
      return err.detail.reason !== 'request timed out waiting for raft';
    default:
      return false;
  }
}

function leaderHintOf(err: Error): number | undefined {
  if (err instanceof RegionError && err.detail.kind === 'NotLeader') {
    return err.detail.leader?.storeId;
  }
  return undefined;
}
