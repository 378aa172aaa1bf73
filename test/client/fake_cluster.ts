// In-process fakes of everything below the SDK: a PD (a PdLookup over the cluster map)
// and stores that are real grpc-js servers on 127.0.0.1 implementing the Kv service,
// unary and BatchCommands, over one in-memory map per Region. The stores check requests
// the way real ones do (store, Region, leadership, epoch, key range) and answer the
// typed region errors, so the SDK is tested against the wire contract, not against its
// own idea of it. Tests steer the cluster: split, move leaders, kill stores, inject
// faults, slow stores down.
import * as grpc from '@grpc/grpc-js';
import { loadNyxProto, type KvHandlers } from '../../src/proto/load.js';
import { regionErrorToProto } from '../../src/proto/convert_errors.js';
import { RegionError, type RegionErrorDetail } from '../../src/region/errors.js';
import {
  cloneRegion,
  keyInRegion,
  PeerRole,
  type Peer,
  type Region,
} from '../../src/region/meta.js';
import type { PdLookup, RegionInfo } from '../../src/client/region_cache.js';
import type { KvCommand } from '../../src/client/kv_connection.js';
import type { Context__Output } from '../../src/proto-gen/nyx/kv/Context.js';
import type { BatchCommandsRequest__Output } from '../../src/proto-gen/nyx/kv/BatchCommandsRequest.js';
import type { BatchResponse } from '../../src/proto-gen/nyx/kv/BatchResponse.js';
import type { BatchCommandsResponse } from '../../src/proto-gen/nyx/kv/BatchCommandsResponse.js';

const cmp = Buffer.compare;
const RAW_COMMANDS = new Set<string>([
  'rawGet',
  'rawBatchGet',
  'rawPut',
  'rawBatchPut',
  'rawDelete',
  'rawDeleteRange',
  'rawScan',
  'rawCompareAndSwap',
]);
const WRITES = new Set<KvCommand>([
  'rawPut',
  'rawBatchPut',
  'rawDelete',
  'rawDeleteRange',
  'rawCompareAndSwap',
]);
// Unref'd: a store told never to answer must not keep the test process alive.
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

interface FakeRegion {
  region: Region;
  /** 0: no leader (an election is running). */
  leaderStore: number;
  data: Map<string, Buffer>;
  /** Regions split off this one, for EpochNotMatch answers. */
  splitInto: number[];
}

type Req = Record<string, unknown> & { context: Context__Output | null };
type Resp = Record<string, unknown>;

/** A fault for the next matching request: a region error, or an `error` string. */
export interface Fault {
  cmd?: KvCommand;
  regionError?: RegionErrorDetail;
  error?: string;
}

export class FakeStore {
  readonly server = new grpc.Server();
  address = '';
  alive = true;
  /** Each request waits this long before it is served. */
  delayMs = 0;
  readonly faults: Fault[] = [];
  /** BatchCommandsRequest messages and the requests in them. */
  batchMessages = 0;
  batchRequests = 0;
  unaryCalls = 0;
  /** Region errors answered, by kind. */
  readonly answered = new Map<string, number>();
  /** Ends the next BatchCommands stream that receives a message. */
  endStreamOnNext = false;
  /** The Context of every write request received, in arrival order (session fields). */
  readonly writeContexts: { cmd: KvCommand; context: Context__Output }[] = [];

  constructor(
    readonly id: number,
    private readonly cluster: FakeCluster,
  ) {}

  async start(): Promise<void> {
    const { nyx } = loadNyxProto();
    this.server.addService(nyx.kv.Kv.service, this.handlers());
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    this.address = `127.0.0.1:${port}`;
  }

  kill(): void {
    this.alive = false;
    this.server.forceShutdown();
  }

  private handlers(): KvHandlers {
    const unary =
      (cmd: KvCommand) =>
      (call: { request: unknown }, cb: (e: null, r: Resp) => void): void => {
        this.unaryCalls++;
        void (async () => {
          if (this.delayMs) await sleep(this.delayMs);
          cb(null, this.handle(cmd, call.request as Req));
        })();
      };
    return {
      RawGet: unary('rawGet'),
      RawBatchGet: unary('rawBatchGet'),
      RawPut: unary('rawPut'),
      RawBatchPut: unary('rawBatchPut'),
      RawDelete: unary('rawDelete'),
      RawDeleteRange: unary('rawDeleteRange'),
      RawScan: unary('rawScan'),
      RawCompareAndSwap: unary('rawCompareAndSwap'),
      BatchCommands: (
        call: grpc.ServerDuplexStream<BatchCommandsRequest__Output, BatchCommandsResponse>,
      ) => {
        call.on('error', () => {});
        call.on('end', () => call.end());
        call.on('data', (msg: BatchCommandsRequest__Output) => {
          this.batchMessages++;
          this.batchRequests += msg.requests.length;
          if (this.endStreamOnNext) {
            this.endStreamOnNext = false;
            call.end();
            return;
          }
          for (const r of msg.requests) {
            void (async () => {
              if (this.delayMs) await sleep(this.delayMs);
              if (!this.alive || call.cancelled || call.writableEnded) return;
              const out: BatchResponse = { requestId: r.requestId };
              if (!r.cmd) out.error = 'no command';
              // The fake serves RawKV only; a transactional command is unknown to it.
              else if (!RAW_COMMANDS.has(r.cmd)) out.error = 'unknown or missing command';
              else out[r.cmd] = this.handle(r.cmd as KvCommand, r[r.cmd] as unknown as Req);
              call.write({ responses: [out] });
            })();
          }
        });
      },
    } as unknown as KvHandlers;
  }

  private regionError(d: RegionErrorDetail): Resp {
    this.answered.set(d.kind, (this.answered.get(d.kind) ?? 0) + 1);
    return { regionError: regionErrorToProto(new RegionError(d)) };
  }

  /** Checks a request like a real store, then serves it from the Region's map. */
  handle(cmd: KvCommand, req: Req): Resp {
    if (WRITES.has(cmd) && req.context) this.writeContexts.push({ cmd, context: req.context });
    const fi = this.faults.findIndex((f) => !f.cmd || f.cmd === cmd);
    if (fi >= 0) {
      const [f] = this.faults.splice(fi, 1);
      if (f!.regionError) return this.regionError(f!.regionError);
      return { error: f!.error };
    }
    const ctx = req.context!;
    const regionId = Number(ctx.regionId);
    const fr = this.cluster.regions.get(regionId);
    if (!fr || !fr.region.peers.some((p) => p.storeId === this.id)) {
      return this.regionError({ kind: 'RegionNotFound', regionId });
    }
    if (ctx.peer && Number(ctx.peer.storeId) !== this.id) {
      return this.regionError({
        kind: 'StoreNotMatch',
        requestStoreId: Number(ctx.peer.storeId),
        actualStoreId: this.id,
      });
    }
    if (fr.leaderStore !== this.id) {
      const leader = fr.region.peers.find((p) => p.storeId === fr.leaderStore);
      return this.regionError({ kind: 'NotLeader', regionId, ...(leader ? { leader } : {}) });
    }
    const epoch = ctx.regionEpoch;
    if (
      !epoch ||
      Number(epoch.version) !== fr.region.epoch.version ||
      Number(epoch.confVer) !== fr.region.epoch.confVer
    ) {
      return this.regionError({
        kind: 'EpochNotMatch',
        currentRegions: this.cluster.lineage(regionId).map(cloneRegion),
      });
    }
    const keys: Buffer[] = [];
    if (cmd === 'rawBatchGet') keys.push(...(req.keys as Buffer[]));
    else if (cmd === 'rawBatchPut')
      keys.push(...(req.pairs as { key: Buffer }[]).map((p) => p.key));
    else if (cmd !== 'rawScan' && cmd !== 'rawDeleteRange') keys.push(req.key as Buffer);
    else keys.push(req.startKey as Buffer);
    for (const k of keys) {
      if (!keyInRegion(k, fr.region) && !(cmd === 'rawScan' && k.length === 0)) {
        return this.regionError({
          kind: 'KeyNotInRegion',
          key: k,
          regionId,
          startKey: fr.region.startKey,
          endKey: fr.region.endKey,
        });
      }
    }
    return serve(cmd, req, fr);
  }
}

function hex(k: Buffer): string {
  return k.toString('hex');
}

/** Keys of the Region's map in [start, end) (empty end: the Region's end), sorted. */
function keysIn(fr: FakeRegion, start: Buffer, end: Buffer): Buffer[] {
  const hi = end.length === 0 ? fr.region.endKey : end;
  return [...fr.data.keys()]
    .map((h) => Buffer.from(h, 'hex'))
    .filter((k) => cmp(k, start) >= 0 && (hi.length === 0 || cmp(k, hi) < 0))
    .sort(cmp);
}

function serve(cmd: KvCommand, req: Req, fr: FakeRegion): Resp {
  const d = fr.data;
  switch (cmd) {
    case 'rawGet': {
      const v = d.get(hex(req.key as Buffer));
      return v ? { value: v } : { notFound: true };
    }
    case 'rawBatchGet':
      return {
        pairs: (req.keys as Buffer[])
          .filter((k) => d.has(hex(k)))
          .map((k) => ({ key: k, value: d.get(hex(k)) })),
      };
    case 'rawPut':
      d.set(hex(req.key as Buffer), req.value as Buffer);
      return {};
    case 'rawBatchPut':
      for (const p of req.pairs as { key: Buffer; value: Buffer }[]) d.set(hex(p.key), p.value);
      return {};
    case 'rawDelete':
      d.delete(hex(req.key as Buffer));
      return {};
    case 'rawDeleteRange':
      for (const k of keysIn(fr, req.startKey as Buffer, req.endKey as Buffer)) d.delete(hex(k));
      return {};
    case 'rawScan': {
      let ks = keysIn(fr, req.startKey as Buffer, req.endKey as Buffer);
      if (req.reverse) ks = ks.reverse();
      const limit = req.limit as number;
      if (limit > 0) ks = ks.slice(0, limit);
      return {
        kvs: ks.map((k) => ({ key: k, value: req.keyOnly ? Buffer.alloc(0) : d.get(hex(k)) })),
      };
    }
    case 'rawCompareAndSwap': {
      const cur = d.get(hex(req.key as Buffer));
      const ok = req.previousNotExist
        ? cur === undefined
        : cur !== undefined && cur.equals(req.previousValue as Buffer);
      if (ok) d.set(hex(req.key as Buffer), req.value as Buffer);
      return cur === undefined
        ? { succeed: ok, previousNotExist: true }
        : { succeed: ok, previousValue: cur };
    }
    default:
      // The transactional commands are served by real stores only (test/integration).
      throw new Error(`the fake cluster does not serve ${cmd}`);
  }
}

/** The fake PD: answers from the cluster map and counts its calls. */
export class FakePd implements PdLookup {
  readonly calls = { getRegion: 0, getRegionById: 0, scanRegions: 0, getStore: 0 };

  constructor(private readonly cluster: FakeCluster) {}

  private info(fr: FakeRegion): RegionInfo {
    const leader = fr.region.peers.find((p) => p.storeId === fr.leaderStore);
    return { region: cloneRegion(fr.region), ...(leader ? { leader: { ...leader } } : {}) };
  }

  async getRegion(key: Buffer): Promise<RegionInfo | undefined> {
    this.calls.getRegion++;
    const fr = this.cluster.sorted().find((r) => keyInRegion(key, r.region));
    return fr && this.info(fr);
  }

  async getRegionById(id: number): Promise<RegionInfo | undefined> {
    this.calls.getRegionById++;
    const fr = this.cluster.regions.get(id);
    return fr && this.info(fr);
  }

  async scanRegions(start: Buffer, end: Buffer, limit: number): Promise<RegionInfo[]> {
    this.calls.scanRegions++;
    const out = this.cluster
      .sorted()
      .filter(
        (r) =>
          (end.length === 0 || cmp(r.region.startKey, end) < 0) &&
          (r.region.endKey.length === 0 || cmp(r.region.endKey, start) > 0),
      )
      .map((r) => this.info(r));
    return limit > 0 ? out.slice(0, limit) : out;
  }

  async getStore(id: number): Promise<{ address: string } | undefined> {
    this.calls.getStore++;
    const s = this.cluster.stores.get(id);
    return s && { address: s.address };
  }

  async getTimestamp(): Promise<bigint> {
    return BigInt(Date.now()) << 18n;
  }
}

export class FakeCluster {
  readonly regions = new Map<number, FakeRegion>();
  readonly stores = new Map<number, FakeStore>();
  readonly pd = new FakePd(this);
  private nextRegionId = 1;

  /** `storeCount` stores, every Region with a peer on each; Regions cut at splitKeys. */
  static async start(storeCount: number, splitKeys: string[] = []): Promise<FakeCluster> {
    const c = new FakeCluster();
    for (let i = 1; i <= storeCount; i++) {
      const s = new FakeStore(i, c);
      await s.start();
      c.stores.set(i, s);
    }
    c.addRegion(Buffer.alloc(0), Buffer.alloc(0), 1);
    for (const k of splitKeys) c.split(Buffer.from(k));
    return c;
  }

  private peersFor(regionId: number): Peer[] {
    return [...this.stores.keys()].map((storeId) => ({
      id: regionId * 10 + storeId,
      storeId,
      role: PeerRole.Voter,
    }));
  }

  private addRegion(start: Buffer, end: Buffer, leaderStore: number, version = 1): FakeRegion {
    const id = this.nextRegionId++;
    const fr: FakeRegion = {
      region: {
        id,
        startKey: start,
        endKey: end,
        epoch: { confVer: 1, version },
        peers: this.peersFor(id),
      },
      leaderStore,
      data: new Map(),
      splitInto: [],
    };
    this.regions.set(id, fr);
    return fr;
  }

  sorted(): FakeRegion[] {
    return [...this.regions.values()].sort((a, b) => cmp(a.region.startKey, b.region.startKey));
  }

  regionOf(key: string | Buffer): FakeRegion {
    const k = Buffer.from(key);
    return this.sorted().find((r) => keyInRegion(k, r.region))!;
  }

  /** Splits the Region holding key at key: the right half is a new Region. */
  split(key: Buffer | string): number {
    const k = Buffer.from(key);
    const left = this.regionOf(k);
    if (cmp(left.region.startKey, k) === 0) throw new Error('split at a Region start');
    left.region.epoch.version++;
    const right = this.addRegion(
      k,
      left.region.endKey,
      left.leaderStore,
      left.region.epoch.version,
    );
    left.region.endKey = k;
    for (const [h, v] of left.data) {
      if (cmp(Buffer.from(h, 'hex'), k) >= 0) {
        right.data.set(h, v);
        left.data.delete(h);
      }
    }
    left.splitInto.push(right.region.id);
    return right.region.id;
  }

  /** The Region and every Region split off it since, as a store reports them. */
  lineage(regionId: number): Region[] {
    const fr = this.regions.get(regionId)!;
    return [fr.region, ...fr.splitInto.flatMap((id) => this.lineage(id))];
  }

  /** Moves leadership (0: no leader) of one Region, or of every Region led by a store. */
  setLeader(regionId: number, storeId: number): void {
    this.regions.get(regionId)!.leaderStore = storeId;
  }

  moveLeaders(from: number, to: number): void {
    for (const fr of this.regions.values()) if (fr.leaderStore === from) fr.leaderStore = to;
  }

  store(id: number): FakeStore {
    return this.stores.get(id)!;
  }

  /** The value of key wherever it lives now. */
  value(key: string): Buffer | undefined {
    return this.regionOf(key).data.get(Buffer.from(key).toString('hex'));
  }

  totalBatchMessages(): number {
    return [...this.stores.values()].reduce((n, s) => n + s.batchMessages, 0);
  }

  totalBatchRequests(): number {
    return [...this.stores.values()].reduce((n, s) => n + s.batchRequests, 0);
  }

  close(): void {
    for (const s of this.stores.values()) if (s.alive) s.kill();
  }
}
