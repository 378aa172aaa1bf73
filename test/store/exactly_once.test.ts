// Exactly-once writes through the real store loop (three stores, one process): a request
// retried with its session number is applied once, on every replica, and answered from
// the Region's record — also after the leader that applied it is gone.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionError } from '../../src/region/errors.js';
import { SessionStamp } from '../../src/store/cmd/command.js';
import { RequestContext } from '../../src/store/raw_kv.js';
import { LocalNetwork } from './cluster_harness.js';

let net: LocalNetwork | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

const b = (s: string) => Buffer.from(s);
const SESSION = b('session-one');

function stamped(ctx: RequestContext, seq: number, lowestPending = seq): RequestContext {
  const session: SessionStamp = { id: SESSION, seq, lowestPending };
  return { ...ctx, session };
}

async function cluster() {
  net = new LocalNetwork([1, 2, 3]);
  for (const s of net.stores.values()) s.open();
  const region = net.bootstrapRegion(1, 'a', 'm');
  const leader = await net.waitForLeader(1);
  return { net, leader, ctx: { regionId: 1, epoch: region.epoch } };
}

const settle = () => new Promise((r) => setTimeout(r, 200));

test('a retried CAS is answered from its record and applied once', async () => {
  const { net, leader, ctx } = await cluster();
  const first = await leader.kv.compareAndSwap(stamped(ctx, 1), b('c'), null, b('v1'));
  assert.deepEqual(first, { succeeded: true, previous: null });
  // Another client writes after the swap; the retry must not swap again.
  await leader.kv.put(ctx, b('c'), b('other'));
  const retry = await leader.kv.compareAndSwap(stamped(ctx, 1), b('c'), null, b('v1'));
  assert.deepEqual(retry, first, 'the retry gets the first attempt’s result');
  assert.deepEqual(await leader.kv.get(ctx, b('c')), b('other'));
  await settle();
  for (const s of net.stores.values()) {
    assert.deepEqual(s.store.peers.get(1)!.engine.get('raw', b('c')), b('other'));
  }
});

test('two copies of one request in the same entry apply once', async () => {
  const { leader, ctx } = await cluster();
  const [x, y] = await Promise.all([
    leader.kv.compareAndSwap(stamped(ctx, 7), b('d'), null, b('once')),
    leader.kv.compareAndSwap(stamped(ctx, 7), b('d'), null, b('once')),
  ]);
  assert.deepEqual(x, { succeeded: true, previous: null });
  assert.deepEqual(y, x);
  // A put copied twice: a later put by the same session is not undone by the copy.
  await leader.kv.put(stamped(ctx, 8), b('e'), b('1'));
  await leader.kv.put(stamped(ctx, 9, 9), b('e'), b('2'));
  await leader.kv.put(stamped(ctx, 9, 9), b('e'), b('2'));
  assert.deepEqual(await leader.kv.get(ctx, b('e')), b('2'));
});

test('a request below the session floor is refused and not applied', async () => {
  const { leader, ctx } = await cluster();
  await leader.kv.put(stamped(ctx, 5, 5), b('f'), b('five'));
  // The client said everything below 5 was answered: 3 can only be a stray old copy.
  await assert.rejects(
    leader.kv.put(stamped(ctx, 3, 3), b('f'), b('three')),
    (e: unknown) =>
      e instanceof RegionError &&
      e.kind === 'SessionRecordGone' &&
      e.detail.kind === 'SessionRecordGone' &&
      e.detail.floor === 5,
  );
  assert.deepEqual(await leader.kv.get(ctx, b('f')), b('five'));
  // Request 5 is still remembered (the floor is 5: records from 5 up are kept).
  await leader.kv.put(ctx, b('f'), b('later'));
  await leader.kv.put(stamped(ctx, 5, 5), b('f'), b('five'));
  assert.deepEqual(await leader.kv.get(ctx, b('f')), b('later'));
});

test('a retry on a new leader after the old one crashed is answered from the replicated record', async () => {
  const { net, leader, ctx } = await cluster();
  const first = await leader.kv.compareAndSwap(stamped(ctx, 10), b('g'), null, b('mine'));
  assert.equal(first.succeeded, true);
  await leader.kv.put(ctx, b('g'), b('theirs'));
  await settle();
  leader.crash();
  const next = await net.waitForLeader(1);
  assert.notEqual(next, leader);
  const retry = await next.kv.compareAndSwap(stamped(ctx, 10), b('g'), null, b('mine'));
  assert.deepEqual(retry, first);
  assert.deepEqual(await next.kv.get(ctx, b('g')), b('theirs'));
  // The crashed store replays its log on restart into the same state.
  leader.open();
  await settle();
  await settle();
  assert.deepEqual(leader.store.peers.get(1)!.engine.get('raw', b('g')), b('theirs'));
  const mine = leader.store.peers.get(1)!.engine.get('session', SESSION);
  assert.deepEqual(mine, next.store.peers.get(1)!.engine.get('session', SESSION));
});

test('apply refuses a write outside the Region even when the proposer did not check', async () => {
  const { net, leader } = await cluster();
  const peer = leader.store.peers.get(1)!;
  const outcome = await new Promise<unknown>((resolve) => {
    peer.proposeWrite([{ op: 'put', cf: 'raw', key: b('zzz'), value: b('x') }], undefined, resolve);
    leader.store.schedule();
  });
  assert.ok(outcome instanceof RegionError && outcome.kind === 'KeyNotInRegion', String(outcome));
  await settle();
  for (const s of net.stores.values())
    assert.equal(s.store.peers.get(1)!.engine.get('raw', b('zzz')), undefined);
});
