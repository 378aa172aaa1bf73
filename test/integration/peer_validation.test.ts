// Hostile Raft peers against a real cluster in plaintext mode (issue 7, findings 1–4): a
// fake peer opens a store's RaftTransport streams and sends what no store would. Through
// all of it the cluster keeps serving, no store exits, every acknowledged write stays
// readable, and after a restart every store starts again.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { openDatabase, SyncMode } from '../../src/storage/sqlite.js';
import { encodeCommand } from '../../src/store/cmd/command.js';
import type { Peer, Region } from '../../src/region/meta.js';
import { PeerRole } from '../../src/region/meta.js';
import { TestCluster, eventually, writeLoad } from './cluster.js';
import { FakePeer, WireHeader, wireMessage } from './fake_peer.js';

interface PeerStatus {
  region: number;
  peer: number;
  role: string;
  term: number;
  commit: number;
  applied: number;
}

/** Where a Region stands right now, from the stores' own /status. */
interface RegionView {
  region: Region;
  term: number;
  commit: number;
  leader: Peer;
  followers: Peer[];
}

const MAX_SAFE = '9007199254740991'; // 2^53 - 1
const NON_MEMBER: Peer = { id: 987_654, storeId: 987_654, role: PeerRole.Voter };

describe('hostile raft peers in plaintext', () => {
  let c: TestCluster;
  let load: ReturnType<typeof writeLoad>;
  const fakes: FakePeer[] = [];
  /** The Region the write load runs in, and an idle one whose log we can predict. */
  let busyRegion: number;
  let idleRegion: number;
  let pd: ReturnType<TestCluster['pdClient']>;

  const fake = async (storeId: number): Promise<FakePeer> => {
    const f = new FakePeer(c.pg.process(await c.nameOfStore(storeId)).grpc);
    fakes.push(f);
    return f;
  };

  const dataDirOf = async (storeId: number) => path.join(c.dir, await c.nameOfStore(storeId)); // the playground names data dirs as it names processes

  async function peerStatuses(): Promise<Map<number, PeerStatus[]>> {
    const out = new Map<number, PeerStatus[]>();
    for (const name of c.storeNames()) {
      const s = (await c.status(name)) as unknown as { store: number; peers: PeerStatus[] };
      out.set(s.store, s.peers);
    }
    return out;
  }

  async function view(regionId: number): Promise<RegionView> {
    return eventually(`a settled leader of region ${regionId}`, async () => {
      const { region } = (await pd.getRegionById(regionId))!;
      const statuses = await peerStatuses();
      let leader: { peer: Peer; st: PeerStatus } | undefined;
      for (const p of region.peers) {
        const st = statuses.get(p.storeId)?.find((x) => x.region === regionId);
        if (st?.role === 'Leader') leader = { peer: p, st };
      }
      if (!leader) return undefined;
      // Idle means every replica applied what the leader committed: its log is predictable.
      const all = region.peers.map((p) =>
        statuses.get(p.storeId)!.find((x) => x.region === regionId)!,
      );
      if (regionId === idleRegion && all.some((s) => s.applied !== leader.st.commit))
        return undefined;
      return {
        region,
        term: leader.st.term,
        commit: leader.st.commit,
        leader: leader.peer,
        followers: region.peers.filter((p) => p.id !== leader.peer.id),
      };
    });
  }

  function assertAllAlive(): void {
    for (const name of c.storeNames()) {
      const p = c.pg.process(name);
      assert.equal(p.child.exitCode, null, `${name} exited (see ${p.logFile})`);
      assert.equal(p.child.signalCode, null, `${name} was killed`);
    }
  }

  async function assertStillWriting(): Promise<void> {
    const n = load.acked.size;
    await eventually('writes to keep being acknowledged', async () => load.acked.size > n + 20);
  }

  async function maxTerm(regionId: number): Promise<number> {
    const statuses = await peerStatuses();
    let max = 0;
    for (const peers of statuses.values())
      for (const p of peers) if (p.region === regionId) max = Math.max(max, p.term);
    return max;
  }

  /** Raft messages the store dropped, over every reason. */
  async function dropped(storeId: number): Promise<number> {
    const res = await fetch(`http://${c.pg.process(await c.nameOfStore(storeId)).status}/metrics`);
    let n = 0;
    for (const line of (await res.text()).split('\n'))
      if (line.startsWith('nyx_raft_messages_dropped_total{')) n += Number(line.split(' ')[1]);
    return n;
  }

  /** Keys of a Region's raw table as the replica on storeId has applied them. */
  async function appliedKeys(storeId: number, regionId: number): Promise<string[]> {
    const file = path.join(await dataDirOf(storeId), 'regions', `${regionId}.sqlite`);
    const db = openDatabase(file, { sync: SyncMode.Normal, readonly: true });
    try {
      const rows = db.prepare('SELECT key FROM raw').pluck(true).all() as Buffer[];
      return rows.map((k) => k.toString());
    } finally {
      db.close();
    }
  }

  function header(v: RegionView, from: Peer, to: Peer): WireHeader {
    return { regionId: v.region.id, from, to, epoch: v.region.epoch };
  }

  before(async () => {
    // appliedKeys reads the stores' Region files while they run: without held locks (a
    // store holds an open file's locks otherwise, and a Region a test message woke may
    // hold its file open).
    c = await TestCluster.start({ regions: 2, storeArgs: ['--no-lock-files'] });
    const client = c.rawClient();
    pd = c.pdClient();
    // The load's keys all start below 'U', the playground's split key for two Regions.
    load = writeLoad(client, 'pv', 4);
    await eventually('first writes', async () => load.acked.size > 20);
    busyRegion = (await pd.getRegion(Buffer.from('0')))!.region.id;
    idleRegion = (await pd.getRegion(Buffer.from('z')))!.region.id;
    assert.notEqual(busyRegion, idleRegion);
  });

  after(async () => {
    for (const f of fakes) f.close();
    await load?.stop();
    await c?.stop();
  });

  test('finding 1: a heartbeat at term 2^53-1 naming the leader is refused at decode', async () => {
    const v = await view(busyRegion);
    for (const to of v.followers) {
      const f = await fake(to.storeId);
      await f.send(
        wireMessage(header(v, v.leader, to), { type: 'MsgHeartbeat', term: MAX_SAFE }),
        // and the same through the real leader's own store id but one beyond 2^53
        wireMessage(header(v, v.leader, to), { type: 'MsgHeartbeat', term: '9007199254740993' }),
      );
    }
    await new Promise((r) => setTimeout(r, 1500));
    assertAllAlive();
    assert.ok((await maxTerm(busyRegion)) < 2 ** 40, 'the forged term spread');
    await assertStillWriting();
    assert.ok((await dropped(v.followers[0]!.storeId)) > 0, 'refusals are counted');
  });

  test('finding 2: a non-member heartbeat at a higher term does not depose the leader', async () => {
    const v = await view(busyRegion);
    const f = await fake(v.leader.storeId);
    const forgedTerm = v.term + 1000;
    await f.send(
      wireMessage(header(v, NON_MEMBER, v.leader), { type: 'MsgHeartbeat', term: forgedTerm }),
    );
    await new Promise((r) => setTimeout(r, 1000));
    assertAllAlive();
    assert.ok((await maxTerm(busyRegion)) < forgedTerm, 'a non-member moved the term');
    await assertStillWriting();
  });

  test('finding 2: a forged MsgApp from a non-member is not applied', async () => {
    const v = await view(idleRegion);
    const follower = v.followers[0]!;
    const cmd = encodeCommand({
      regionId: v.region.id,
      epoch: v.region.epoch,
      timeMs: Date.now(),
      requests: [
        {
          writes: [
            { op: 'put', cf: 'raw', key: Buffer.from('zz-forged'), value: Buffer.from('x') },
            // a key outside the Region's range, too
            { op: 'put', cf: 'raw', key: Buffer.from('0-forged'), value: Buffer.from('x') },
          ],
        },
      ],
    });
    const f = await fake(follower.storeId);
    await f.send(
      wireMessage(header(v, NON_MEMBER, follower), {
        type: 'MsgApp',
        term: v.term,
        index: v.commit,
        logTerm: v.term,
        commit: v.commit + 1,
        entries: [
          { type: 'EntryNormal', term: String(v.term), index: String(v.commit + 1), data: cmd },
        ],
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
    assertAllAlive();
    const keys = await appliedKeys(follower.storeId, v.region.id);
    assert.ok(!keys.includes('zz-forged') && !keys.includes('0-forged'), 'forged put applied');
  });

  test('finding 2: a garbage ConfChange entry is refused before it enters the log', async () => {
    const v = await view(idleRegion);
    const follower = v.followers[0]!;
    const f = await fake(follower.storeId);
    // Plaintext cannot tell the real leader's store from an impostor naming it: the entry
    // itself must be validated.
    await f.send(
      wireMessage(header(v, v.leader, follower), {
        type: 'MsgApp',
        term: v.term,
        index: v.commit,
        logTerm: v.term,
        commit: v.commit + 1,
        entries: [
          {
            type: 'EntryConfChange',
            term: String(v.term),
            index: String(v.commit + 1),
            data: Buffer.from([1, 2, 3]),
          },
        ],
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
    assertAllAlive();
    await assertStillWriting();
  });

  test('finding 2: messages whose envelope and body disagree, or of local-only types, are dropped', async () => {
    const v = await view(busyRegion);
    const f = await fake(v.leader.storeId);
    const before = await dropped(v.leader.storeId);
    await f.send(
      // the body claims another sender than the envelope
      wireMessage(header(v, v.followers[0]!, v.leader), {
        type: 'MsgHeartbeatResp',
        term: v.term + 1000,
        msgFrom: 4242,
      }),
      // a proposal: local to a node, never sent between stores
      wireMessage(header(v, v.followers[0]!, v.leader), {
        type: 'MsgProp',
        term: 0,
        entries: [{ type: 'EntryNormal', term: '0', index: '0', data: Buffer.from([9]) }],
      }),
    );
    await eventually('the drops to be counted', async () =>
      (await dropped(v.leader.storeId)) >= before + 2 ? true : undefined,
    );
    assert.ok((await maxTerm(busyRegion)) < v.term + 1000);
    assertAllAlive();
  });

  test('finding 3: a snapshot with a garbage descriptor, or a file that is not SQLite, is refused', async () => {
    const v = await view(idleRegion);
    const follower = v.followers[0]!;
    const f = await fake(follower.storeId);
    const confState = {
      voters: v.region.peers.map((p) => String(p.id)),
      votersOutgoing: [],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    };
    const snapshotMsg = (data: Buffer) =>
      wireMessage(header(v, v.leader, follower), {
        type: 'MsgSnap',
        term: v.term,
        snapshot: {
          data,
          metadata: { confState, index: String(v.commit + 100), term: String(v.term) },
        },
      });
    // A snapshot on the message stream names a file the sender never sent.
    await f.send(snapshotMsg(Buffer.from('not a descriptor')));

    // On the snapshot stream: a descriptor that is not one, then a well-formed descriptor
    // whose file (size and checksum right) is not an SQLite database.
    const refusedDescriptor = await f.snapshot(snapshotMsg(Buffer.from('{"name":"x"}')), []).done;
    assert.ok(refusedDescriptor, 'a garbage descriptor was accepted');

    const garbage = crypto.randomBytes(64 << 10);
    const desc = {
      regionId: v.region.id,
      name: `region-${v.region.id}-${v.commit + 100}-${v.term}.sqlite`,
      size: garbage.length,
      checksum: crypto.createHash('sha256').update(garbage).digest('hex'),
      applyState: { appliedIndex: v.commit + 100, appliedTerm: v.term },
    };
    const refusedFile = await f.snapshot(snapshotMsg(Buffer.from(JSON.stringify(desc))), [garbage])
      .done;
    assert.ok(refusedFile, 'a snapshot file that is not a database was accepted');
    assert.equal(refusedFile.code, grpc.status.INVALID_ARGUMENT);

    await new Promise((r) => setTimeout(r, 1000));
    assertAllAlive();
    const left = fs.readdirSync(path.join(await dataDirOf(follower.storeId), 'snap'));
    assert.deepEqual(left, [], 'refused snapshot files were kept');
    await assertStillWriting();
  });

  test('finding 4: snapshots only for a Region that expects one, bounded in size and number', async () => {
    const v = await view(idleRegion);
    const follower = v.followers[0]!;
    const f = await fake(follower.storeId);
    const snapDir = path.join(await dataDirOf(follower.storeId), 'snap');
    const data = crypto.randomBytes(256 << 10);
    const snapshotHeader = (regionId: number, size: number) => {
      const desc = {
        regionId,
        name: `region-${regionId}-${v.commit + 100}-${v.term}.sqlite`,
        size,
        checksum: crypto.createHash('sha256').update(data).digest('hex'),
        applyState: { appliedIndex: v.commit + 100, appliedTerm: v.term },
      };
      return wireMessage(
        { ...header(v, v.leader, follower), regionId },
        {
          type: 'MsgSnap',
          term: v.term,
          snapshot: {
            data: Buffer.from(JSON.stringify(desc)),
            metadata: {
              confState: {
                voters: v.region.peers.map((p) => String(p.id)),
                votersOutgoing: [],
                learners: [],
                learnersNext: [],
                autoLeave: false,
              },
              index: String(v.commit + 100),
              term: String(v.term),
            },
          },
        },
      );
    };

    // A Region this store does not host: refused before a byte is written.
    const unknown = await f.snapshot(snapshotHeader(424_242, data.length), [data]).done;
    assert.ok(unknown, 'a snapshot for an unknown Region was accepted');

    // Declared larger than any snapshot may be: refused at the header.
    const huge = await f.snapshot(snapshotHeader(v.region.id, 2 ** 50), [data]).done;
    assert.ok(huge, 'a snapshot declared at 1 PiB was accepted');

    // An unfinished stream that sends more than it declared is cut off at the declared size.
    const over = f.snapshot(snapshotHeader(v.region.id, data.length), [data, data, data], {
      end: false,
    });
    const overErr = await Promise.race([
      over.done,
      new Promise<'open'>((r) => setTimeout(() => r('open'), 3000)),
    ]);
    over.call.end();
    assert.notEqual(overErr, 'open', 'a stream writing past its declared size was kept open');
    assert.ok(overErr);

    // Streams in flight from one store are bounded: unfinished ones hold their slots.
    const open = Array.from({ length: 6 }, () =>
      f.snapshot(snapshotHeader(v.region.id, data.length), [data.subarray(0, 1024)], {
        end: false,
      }),
    );
    const refusedBusy = await Promise.race([
      Promise.any(
        open.map((o) =>
          o.done.then((e) =>
            e?.code === grpc.status.RESOURCE_EXHAUSTED ? e : Promise.reject(new Error('not busy')),
          ),
        ),
      ),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000)),
    ]);
    for (const o of open) o.call.cancel();
    assert.ok(refusedBusy, 'six unfinished snapshot streams from one store were all accepted');

    await eventually('refused and cancelled snapshot files to be removed', async () =>
      fs.readdirSync(snapDir).length === 0 ? true : undefined,
    );
    assertAllAlive();
  });

  test('finding 4: a store cleans snap/ when it starts', async () => {
    const v = await view(idleRegion);
    const storeId = v.followers[0]!.storeId;
    const name = await c.nameOfStore(storeId);
    const snapDir = path.join(await dataDirOf(storeId), 'snap');
    await c.pg.kill(name);
    fs.writeFileSync(path.join(snapDir, 'recv-9-region-9-100-5.sqlite'), 'left over');
    fs.writeFileSync(path.join(snapDir, 'recv-9-region-9-200-5.sqlite.part'), 'unfinished');
    await c.pg.restart(name);
    assert.deepEqual(fs.readdirSync(snapDir), []);
    await assertStillWriting();
  });

  test('every acknowledged write is readable, and every store restarts', async () => {
    assertAllAlive();
    const acked = await load.stop();
    const client = c.rawClient();
    const check = async () => {
      const keys = [...acked.keys()];
      for (let i = 0; i < keys.length; i += 200) {
        const chunk = keys.slice(i, i + 200);
        const got = await client.batchGet(chunk);
        for (const k of chunk)
          assert.equal(got.get(k)?.toString(), acked.get(k), `acknowledged write ${k} lost`);
      }
    };
    await check();
    for (const name of c.storeNames()) await c.pg.kill(name);
    for (const name of c.storeNames()) await c.pg.restart(name);
    await check();
    await client.put(Buffer.from('after-restart'), Buffer.from('ok'));
    assert.equal((await client.get(Buffer.from('after-restart')))?.toString(), 'ok');
    assertAllAlive();
  });
});
