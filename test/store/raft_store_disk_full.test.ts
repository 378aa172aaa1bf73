// A store whose disk has no room for what Raft must write: it lags, waits and catches up,
// and never stops (a real store would exit on the error). The disk below the store is the
// harness's: a switch for whether a write of so many bytes has room, and a log engine
// whose writes fail with SQLITE_FULL while a test says so.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LocalNetwork,
  TestStore,
  eventually,
  region1Ctx,
  sleep,
  threeStoresOneRegion,
} from './cluster_harness.js';

let net: LocalNetwork | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

const b = (s: string) => Buffer.from(s);

async function threeStores(): Promise<{ leader: TestStore; followers: TestStore[] }> {
  const c = await threeStoresOneRegion();
  net = c.net;
  return c;
}

const ctxOf = region1Ctx;
const applied = (s: TestStore) => s.store.peers.get(1)!.appliedIndex;
const rawOf = (s: TestStore, key: string) => s.store.peers.get(1)!.engine.get('raw', b(key));

test('a follower without room drops appends, lags, and catches up once space returns', async () => {
  const { leader, followers } = await threeStores();
  const [full] = followers as [TestStore];
  full.roomForRaftWrite = () => false;
  for (let i = 0; i < 5; i++) await leader.kv.put(ctxOf(leader), b(`k${i}`), b(`v${i}`));
  // The other follower makes the quorum; the full one took none of the entries.
  await sleep(200);
  assert.ok(applied(full) < applied(leader), `${applied(full)} < ${applied(leader)}`);
  assert.equal(rawOf(full, 'k4'), undefined);
  assert.equal(full.fatal, undefined);

  full.roomForRaftWrite = () => true;
  await eventually('the follower caught up', () => applied(full) === applied(leader), 5_000);
  for (let i = 0; i < 5; i++) assert.deepEqual(rawOf(full, `k${i}`), b(`v${i}`));
  for (const s of net!.stores.values()) assert.equal(s.fatal, undefined, `store ${s.id}`);
});

test('committed entries wait for room to apply, and apply once it returns', async () => {
  const { leader } = await threeStores();
  // The leader appends its own proposals (only a client write is refused at the reserve,
  // disk_usage.ts), the followers have room: the entry commits, and its apply waits.
  await leader.kv.put(ctxOf(leader), b('before'), b('1'));
  leader.roomForRaftWrite = () => false;
  const before = applied(leader);
  let answered = false;
  const put = leader.kv.put(ctxOf(leader), b('held'), b('2')).then(() => (answered = true));
  const peer = leader.store.peers.get(1)!;
  await eventually('the entry committed', () => peer.node.raft.raftLog.committed > before, 5_000);
  await sleep(200); // several ticks, each retrying the apply
  assert.equal(answered, false, 'a write is answered only once applied');
  assert.equal(applied(leader), before);
  assert.equal(peer.hasHeldEntries, true);
  assert.equal(rawOf(leader, 'held'), undefined);

  leader.roomForRaftWrite = () => true;
  await eventually('the write answered', () => answered, 5_000);
  await put;
  assert.deepEqual(rawOf(leader, 'held'), b('2'));
  assert.equal(peer.hasHeldEntries, false);
  assert.deepEqual(await leader.kv.get(ctxOf(leader), b('held')), b('2'));
  assert.equal(leader.fatal, undefined);
});

test('a log write that fails with SQLITE_FULL waits and is written again; the store goes on', async () => {
  const { leader } = await threeStores();
  await leader.kv.put(ctxOf(leader), b('before'), b('1'));
  const engine = leader.logEngine;
  const write = engine.write.bind(engine);
  let full = true;
  let failed = 0;
  engine.write = (batch, opts) => {
    if (full) {
      failed++;
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    }
    write(batch, opts);
  };
  let answered = false;
  const put = leader.kv.put(ctxOf(leader), b('k'), b('v')).then(() => (answered = true));
  await eventually('a few failed writes', () => failed >= 2, 5_000);
  assert.equal(leader.fatal, undefined, 'the store did not stop');
  assert.equal(answered, false);
  assert.ok(leader.logWritesFailedForSpace >= 2, 'each failure made what room there is');

  full = false;
  await eventually('the write answered', () => answered, 5_000);
  await put;
  // A leader that stalled longer than an election timeout sent no heartbeats meanwhile:
  // another store may lead now. Either way the write is there, on every store.
  const now = await net!.waitForLeader(1);
  assert.deepEqual(await now.kv.get(ctxOf(now), b('k')), b('v'));
  for (const s of net!.stores.values()) {
    await eventually(`store ${s.id} applied k`, () => rawOf(s, 'k') !== undefined, 5_000);
    assert.equal(s.fatal, undefined, `store ${s.id}`);
  }
  // Any other error of the log write still stops the store (fail-stop, raft_store.ts).
  now.logEngine.write = () => {
    throw new Error('disk I/O error');
  };
  void now.kv.put(ctxOf(now), b('k2'), b('v')).catch(() => undefined);
  await eventually('the store stopped', () => now.fatal !== undefined, 5_000);
  assert.match(now.fatal!.message, /disk I\/O error/);
});
