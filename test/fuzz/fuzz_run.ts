// The fuzz run: mutated valid messages at every gRPC method of PD, the stores' Kv service
// and the store-to-store RaftTransport, while a writer keeps writing and recording what
// was acknowledged. Afterwards: no process exited, every /health answers, and every
// acknowledged write reads back. One seed drives every choice, so a failure replays.
//
// The fuzz messages all name the Region holding "f…" keys (or none); the acknowledged
// writes go to the other Region ("A/…" keys). A mutated message that would decode to
// another Region is not sent: a RawDeleteRange there is a legal request, and would
// delete acknowledged data for reasons that have nothing to do with robustness.
import * as grpc from '@grpc/grpc-js';
import { loadNyxProto } from '../../src/proto/load.js';
import { SimRng } from '../sim/rng.js';
import { wireMessage } from '../integration/fake_peer.js';
import type { TestCluster } from '../integration/cluster.js';
import { mutate } from './mutate.js';

export interface FuzzOptions {
  durationMs: number;
  seed: number;
  log?: (line: string) => void;
}

export interface FuzzReport {
  sent: number;
  skipped: number;
  acknowledged: number;
  perMethod: Record<string, number>;
}

interface MethodDef {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(v: unknown): Buffer;
  requestDeserialize(b: Buffer): unknown;
}

interface Target {
  name: string;
  address: string;
  def: MethodDef;
  seeds: Buffer[];
}

const identity = (b: Buffer) => b;

export async function runFuzz(c: TestCluster, o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => undefined);
  const rng = new SimRng(o.seed);
  const pd = c.pdClient();
  const clusterId = String(await pd.getClusterId());
  const info = (await pd.getRegion(Buffer.from('fuzz')))!;
  const r2 = info.region;
  const leader = info.leader ?? r2.peers[0]!;
  const follower = r2.peers.find((p) => p.id !== leader.id) ?? leader;
  const R2 = String(r2.id);
  const peer = (p: { id: number; storeId: number }) => ({
    id: String(p.id),
    storeId: String(p.storeId),
  });
  const epoch = { confVer: String(r2.epoch.confVer), version: String(r2.epoch.version) };
  const context = { regionId: R2, regionEpoch: epoch, peer: peer(leader) };
  const header = { clusterId, senderId: '0' };
  const k = (s: string) => Buffer.from(s);

  const { nyx } = loadNyxProto();
  const kvSeeds: Record<string, object[]> = {
    RawGet: [{ context, key: k('fuzz/1') }],
    RawBatchGet: [{ context, keys: [k('fuzz/1'), k('fuzz/2')] }],
    RawPut: [{ context, key: k('fuzz/1'), value: k('v') }],
    RawBatchPut: [{ context, pairs: [{ key: k('fuzz/1'), value: k('v') }] }],
    RawDelete: [{ context, key: k('fuzz/1') }],
    RawDeleteRange: [{ context, startKey: k('fuzz/'), endKey: k('fuzz0') }],
    RawScan: [{ context, startKey: k('fuzz/'), endKey: k('fuzz0'), limit: 10 }],
    RawCompareAndSwap: [{ context, key: k('fuzz/1'), value: k('w'), previousNotExist: true }],
    BatchCommands: [
      {
        requests: [
          { requestId: '1', rawGet: { context, key: k('fuzz/1') } },
          { requestId: '2', rawPut: { context, key: k('fuzz/2'), value: k('v') } },
          { requestId: '3', rawScan: { context, startKey: k('f'), endKey: k('g'), limit: 5 } },
        ],
      },
    ],
  };
  const hb = wireMessage(
    { regionId: r2.id, from: leader, to: follower, epoch: r2.epoch },
    { type: 'MsgHeartbeat', term: 1 },
  );
  const app = wireMessage(
    { regionId: r2.id, from: leader, to: follower, epoch: r2.epoch },
    { type: 'MsgApp', term: 1, logTerm: 1, index: 1, commit: 1, entries: [] },
  );
  const snap = wireMessage(
    { regionId: r2.id, from: leader, to: follower, epoch: r2.epoch },
    { type: 'MsgSnap', term: 1 },
  );
  const raftSeeds: Record<string, object[]> = {
    Raft: [{ msgs: [hb] }, { msgs: [app, hb] }],
    Snapshot: [{ header: snap }, { data: Buffer.alloc(64, 1) }],
  };
  const region = {
    id: R2,
    startKey: r2.startKey,
    endKey: r2.endKey,
    regionEpoch: epoch,
    peers: r2.peers.map((p) => ({ ...peer(p), role: 'Voter' })),
  };
  const pdSeeds: Record<string, object[]> = {
    GetRegion: [{ header, regionKey: k('fuzz') }],
    GetRegionByID: [{ header, regionId: R2 }],
    ScanRegions: [{ header, startKey: k(''), endKey: k(''), limit: 10 }],
    GetStore: [{ header, storeId: '1' }],
    PutStore: [{ header, store: { id: '4242', address: '127.0.0.1:9' }, tickMs: 50 }],
    StoreHeartbeat: [{ header, stats: { storeId: '4242' } }],
    RegionHeartbeat: [{ header, region, leader: peer(leader), term: '1' }],
    Tso: [{ header, count: 10 }],
  };

  const targets: Target[] = [];
  const add = (
    name: string,
    address: string,
    service: Record<string, MethodDef>,
    seeds: Record<string, object[]>,
  ) => {
    for (const [method, def] of Object.entries(service)) {
      const objs = seeds[method] ?? [{ header }];
      targets.push({
        name: `${name}.${method}`,
        address,
        def,
        seeds: objs.map((x) => def.requestSerialize(x)),
      });
    }
  };
  add('pd', c.pd, nyx.pd.PD.service as unknown as Record<string, MethodDef>, pdSeeds);
  for (const s of c.storeNames()) {
    const p = c.pg.process(s);
    add(`${s}.kv`, p.grpc, nyx.kv.Kv.service as unknown as Record<string, MethodDef>, kvSeeds);
    add(
      `${s}.raft`,
      p.grpc,
      nyx.raft.RaftTransport.service as unknown as Record<string, MethodDef>,
      raftSeeds,
    );
  }

  const clients = new Map<string, grpc.Client>();
  const client = (addr: string) => {
    let cl = clients.get(addr);
    if (!cl) {
      cl = new grpc.Client(addr, grpc.credentials.createInsecure(), {
        'grpc.max_send_message_length': 64 << 20,
      });
      clients.set(addr, cl);
    }
    return cl;
  };

  // The writer: acknowledged writes to the other Region.
  const raw = c.rawClient();
  const acked = new Map<string, string>();
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const key = `A/${i}`;
      const value = `v${i}-${o.seed}`;
      try {
        await raw.put(key, value);
        acked.set(key, value);
      } catch {
        // Not acknowledged: nothing to check.
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const report: FuzzReport = { sent: 0, skipped: 0, acknowledged: 0, perMethod: {} };
  const end = Date.now() + o.durationMs;
  const inFlight = new Set<Promise<void>>();
  let lastLog = Date.now();
  while (Date.now() < end) {
    const t = rng.pick(targets);
    const msgs: Buffer[] = [];
    for (let i = 0, n = t.def.requestStream ? rng.int(1, 3) : 1; i < n; i++)
      msgs.push(mutate(rng, rng.pick(t.seeds)));
    if (msgs.some((m) => namesOtherRegion(t, m, R2))) {
      report.skipped++;
      continue;
    }
    report.sent++;
    report.perMethod[t.name] = (report.perMethod[t.name] ?? 0) + 1;
    const p = send(client(t.address), t.def, msgs).finally(() => inFlight.delete(p));
    inFlight.add(p);
    // A few calls at once, not a flood: the run is about bad input, not load.
    if (inFlight.size >= 8) await Promise.race(inFlight);
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log(
        `fuzz: ${report.sent} sent, ${report.skipped} skipped, ${acked.size} writes acknowledged`,
      );
    }
  }
  await Promise.all(inFlight);
  writing = false;
  await writer;
  for (const cl of clients.values()) cl.close();
  report.acknowledged = acked.size;

  // Every process alive, healthy, and every acknowledged write readable.
  for (const p of c.pg.processes) {
    if (p.child.exitCode !== null || p.child.signalCode !== null)
      throw new Error(
        `seed ${o.seed}: ${p.name} exited (${p.child.exitCode ?? p.child.signalCode})`,
      );
    const health = await fetch(`http://${p.status}/health`, { signal: AbortSignal.timeout(5000) });
    if (health.status !== 200)
      throw new Error(`seed ${o.seed}: ${p.name} /health ${health.status}`);
  }
  for (const [key, value] of acked) {
    const got = (await raw.get(key))?.toString();
    if (got !== value)
      throw new Error(`seed ${o.seed}: acknowledged ${key}=${value} reads ${got ?? 'nothing'}`);
  }
  return report;
}

/** One call with these (raw, already encoded) messages; resolves whatever the answer. */
function send(cl: grpc.Client, def: MethodDef, msgs: Buffer[]): Promise<void> {
  const deadline = Date.now() + 2000;
  return new Promise((resolve) => {
    const done = () => resolve();
    if (!def.requestStream && !def.responseStream) {
      cl.makeUnaryRequest(def.path, identity, identity, msgs[0]!, { deadline }, done);
    } else if (def.requestStream && !def.responseStream) {
      const call = cl.makeClientStreamRequest(def.path, identity, identity, { deadline }, done);
      call.on('error', () => undefined);
      for (const m of msgs) call.write(m);
      call.end();
    } else if (def.requestStream && def.responseStream) {
      const call = cl.makeBidiStreamRequest(def.path, identity, identity, { deadline });
      call.on('data', () => undefined);
      call.on('error', done);
      call.on('end', done);
      call.on('status', done);
      for (const m of msgs) call.write(m);
      call.end();
      // A stream the server keeps open: cut it (the deadline would too).
      setTimeout(() => call.cancel(), 500).unref();
    } else {
      const call = cl.makeServerStreamRequest(def.path, identity, identity, msgs[0]!, {
        deadline,
      });
      call.on('data', () => undefined);
      call.on('error', done);
      call.on('end', done);
    }
  });
}

/** Whether a message decodes to one that names a Region other than the fuzzed one. */
function namesOtherRegion(t: Target, m: Buffer, r2: string): boolean {
  let decoded: unknown;
  try {
    decoded = t.def.requestDeserialize(m);
  } catch {
    return false; // the server cannot decode it either
  }
  let other = false;
  const walk = (v: unknown, parentKey: string) => {
    if (other || v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return;
    for (const [key, x] of Object.entries(v as Record<string, unknown>)) {
      const isRegionId =
        key === 'regionId' || (parentKey === 'region' && key === 'id' && t.name.startsWith('pd.'));
      if (isRegionId && String(x) !== '0' && String(x) !== r2) other = true;
      walk(x, key);
    }
  };
  walk(decoded, '');
  return other;
}
