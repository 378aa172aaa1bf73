// The operator controller driven by fake leader heartbeats (the layer below it): admission
// (one per Region, priority replaces, store limits), step advance from the reported Region,
// throttled re-sends, the wait for a learner to catch up, and every final state.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerRole, type Peer, type Region } from '../../src/region/meta.js';
import {
  OperatorKind,
  OperatorPriority,
  OperatorStatus,
  type Operator,
  type OperatorStep,
} from '../../src/pd/schedule/operator.js';
import { OperatorController } from '../../src/pd/schedule/operator_controller.js';
import { buildAdminOperator } from '../../src/pd/schedule/admin_operator.js';
import { PdError } from '../../src/pd/errors.js';

const V = PeerRole.Voter;
const L = PeerRole.Learner;

function region(confVer: number, peers: [number, number, PeerRole][], version = 1): Region {
  return {
    id: 7,
    startKey: Buffer.alloc(0),
    endKey: Buffer.alloc(0),
    epoch: { confVer, version },
    peers: peers.map(([id, storeId, role]) => ({ id, storeId, role })),
  };
}

const BASE: [number, number, PeerRole][] = [
  [11, 1, V],
  [12, 2, V],
  [13, 3, V],
];

function setup(limit = 4) {
  let now = 1000;
  let ids = 100;
  const ended: Operator[] = [];
  const c = new OperatorController({
    now: () => now,
    allocId: () => ids++,
    storeLimit: () => limit,
    onEnd: (op) => ended.push(op),
  });
  const op = (steps: OperatorStep[], over: Partial<Operator> = {}): Operator => ({
    id: c.nextOperatorId(),
    regionId: 7,
    desc: 'test',
    kind: OperatorKind.Admin,
    priority: OperatorPriority.Normal,
    steps,
    epoch: { confVer: 1, version: 1 },
    createdAtMs: now,
    timeoutMs: 10_000,
    currentStep: 0,
    status: OperatorStatus.Running,
    ...over,
  });
  const hb = (r: Region, leaderStore = 1, pending: Peer[] = []) =>
    c.onHeartbeat({
      region: r,
      leader: r.peers.find((p) => p.storeId === leaderStore)!,
      pendingPeers: pending,
    });
  return { c, op, hb, ended, advance: (ms: number) => (now += ms) };
}

describe('operator controller', () => {
  test('add-peer: sent, re-sent at most once per second, waits for catch-up, finishes', () => {
    const { c, op, hb, ended, advance } = setup();
    const o = op([
      { kind: 'AddLearner', toStore: 4, peerId: 14 },
      { kind: 'PromoteLearner', toStore: 4, peerId: 14 },
    ]);
    assert.deepEqual(c.add(o), { ok: true });
    assert.equal(hb(region(1, BASE))?.step.kind, 'AddLearner');
    assert.equal(hb(region(1, BASE)), undefined, 'not again within a second');
    advance(1001);
    assert.equal(hb(region(1, BASE))?.step.kind, 'AddLearner', 'again after a second');
    const withLearner = region(2, [...BASE, [14, 4, L]]);
    // The learner is there but pending (no snapshot yet): promotion waits.
    assert.equal(hb(withLearner, 1, [{ id: 14, storeId: 4, role: L }]), undefined);
    assert.equal(o.currentStep, 1);
    assert.equal(hb(withLearner)?.step.kind, 'PromoteLearner');
    assert.equal(hb(region(3, [...BASE, [14, 4, V]])), undefined);
    assert.equal(o.status, OperatorStatus.Finished);
    assert.equal(c.running(7), undefined);
    assert.deepEqual(ended, [o]);
    assert.equal(c.latest(7), o);
  });

  test('one operator per Region; a higher priority replaces a lower one', () => {
    const { c, op } = setup();
    const low = op([{ kind: 'TransferLeader', fromStore: 1, toStore: 2 }]);
    assert.ok(c.add(low).ok);
    const same = op([{ kind: 'TransferLeader', fromStore: 1, toStore: 3 }]);
    const r = c.add(same);
    assert.ok(!r.ok && /has an operator already/.test(r.reason));
    const high = op([{ kind: 'TransferLeader', fromStore: 1, toStore: 3 }], {
      priority: OperatorPriority.High,
    });
    assert.ok(c.add(high).ok);
    assert.equal(low.status, OperatorStatus.Replaced);
    assert.equal(c.running(7), high);
  });

  test('store limit: snapshots in flight per store', () => {
    const { c, op } = setup(1);
    assert.ok(c.add(op([{ kind: 'AddLearner', toStore: 4, peerId: 14 }])).ok);
    const other = { ...op([{ kind: 'AddLearner', toStore: 4, peerId: 24 }]), regionId: 8 };
    const r = c.add(other);
    assert.ok(!r.ok && /store-limit 1/.test(r.reason), JSON.stringify(r));
    assert.ok(c.add({ ...op([{ kind: 'AddLearner', toStore: 5, peerId: 25 }]), regionId: 9 }).ok);
  });

  test('timed out, cancelled, stale: each ends once', () => {
    const { c, op, hb, advance, ended } = setup();
    const t = op([{ kind: 'RemovePeer', fromStore: 3, peerId: 13 }]);
    c.add(t);
    advance(10_001);
    assert.equal(hb(region(1, BASE)), undefined);
    assert.equal(t.status, OperatorStatus.TimedOut);

    const k = op([{ kind: 'RemovePeer', fromStore: 3, peerId: 13 }]);
    c.add(k);
    assert.equal(c.cancel(7), k);
    assert.equal(k.status, OperatorStatus.Cancelled);
    assert.equal(c.cancel(7), undefined);

    // A split under a membership operator: the steps no longer describe the Region.
    const s = op([{ kind: 'RemovePeer', fromStore: 3, peerId: 13 }]);
    c.add(s);
    assert.equal(hb(region(1, BASE, 2)), undefined);
    assert.equal(s.status, OperatorStatus.Stale);
    // Two conf changes where the steps make one: someone else changed the Region.
    const s2 = op([
      { kind: 'AddLearner', toStore: 4, peerId: 14 },
      { kind: 'PromoteLearner', toStore: 4, peerId: 14 },
    ]);
    c.add(s2);
    assert.equal(
      hb(
        region(3, [
          [11, 1, V],
          [12, 2, V],
          [15, 5, L],
        ]),
      ),
      undefined,
    );
    assert.equal(s2.status, OperatorStatus.Stale);
    assert.deepEqual(
      ended.map((o) => o.status),
      [
        OperatorStatus.TimedOut,
        OperatorStatus.Cancelled,
        OperatorStatus.Stale,
        OperatorStatus.Stale,
      ],
    );
  });

  test('a step another operator made impossible ends Stale, even when the epoch looks right', () => {
    const { c, op, hb } = setup();
    // A balance move added learner 14 on store 4, then a repair planned at the old epoch
    // replaced it: its learner (20) can never go to store 4, whose conf change it would
    // otherwise take for its own.
    const balance = op([
      { kind: 'AddLearner', toStore: 4, peerId: 14 },
      { kind: 'PromoteLearner', toStore: 4, peerId: 14 },
    ]);
    c.add(balance);
    assert.equal(hb(region(1, BASE))?.step.kind, 'AddLearner');
    const repair = op(
      [
        { kind: 'AddLearner', toStore: 4, peerId: 20 },
        { kind: 'PromoteLearner', toStore: 4, peerId: 20 },
        { kind: 'RemovePeer', fromStore: 3, peerId: 13 },
      ],
      { priority: OperatorPriority.High },
    );
    assert.deepEqual(c.add(repair), { ok: true });
    assert.equal(balance.status, OperatorStatus.Replaced);
    assert.equal(hb(region(2, [...BASE, [14, 4, L]])), undefined);
    assert.equal(repair.status, OperatorStatus.Stale);

    // A learner to promote that someone removed.
    const promote = op([{ kind: 'PromoteLearner', toStore: 4, peerId: 14 }], {
      epoch: { confVer: 2, version: 1 },
    });
    c.add(promote);
    assert.equal(hb(region(3, BASE)), undefined);
    assert.equal(promote.status, OperatorStatus.Stale);

    // Its own learner on the store is the step done, not a conflict.
    const own = op(
      [
        { kind: 'AddLearner', toStore: 4, peerId: 14 },
        { kind: 'PromoteLearner', toStore: 4, peerId: 14 },
      ],
      { epoch: { confVer: 3, version: 1 } },
    );
    c.add(own);
    assert.equal(hb(region(4, [...BASE, [14, 4, L]]))?.step.kind, 'PromoteLearner');
    assert.equal(own.status, OperatorStatus.Running);
  });

  test('joint change: done only once the joint state is left', () => {
    const { c, op, hb } = setup();
    const o = op(
      [
        {
          kind: 'ChangePeersJoint',
          promote: [{ storeId: 4, peerId: 14 }],
          demote: [{ storeId: 3, peerId: 13 }],
        },
        { kind: 'RemovePeer', fromStore: 3, peerId: 13 },
      ],
      { epoch: { confVer: 2, version: 1 } },
    );
    c.add(o);
    const learner = region(2, [...BASE, [14, 4, L]]);
    assert.equal(hb(learner)?.step.kind, 'ChangePeersJoint');
    const joint = region(3, [
      [11, 1, V],
      [12, 2, V],
      [13, 3, PeerRole.DemotingVoter],
      [14, 4, PeerRole.IncomingVoter],
    ]);
    assert.equal(hb(joint), undefined);
    assert.equal(o.currentStep, 0);
    const left = region(4, [
      [11, 1, V],
      [12, 2, V],
      [13, 3, L],
      [14, 4, V],
    ]);
    assert.equal(hb(left)?.step.kind, 'RemovePeer');
    assert.equal(
      hb(
        region(5, [
          [11, 1, V],
          [12, 2, V],
          [14, 4, V],
        ]),
      ),
      undefined,
    );
    assert.equal(o.status, OperatorStatus.Finished);
  });

  test('admin operators: the steps each kind makes, and typed refusals', () => {
    const ctx = {
      allocId: (() => {
        let i = 500;
        return () => i++;
      })(),
      now: () => 0,
      storeUnusable: (s: number) => (s === 9 ? 'is Down' : undefined),
    };
    const info = { region: region(1, BASE), leader: { id: 11, storeId: 1, role: V } };
    const kinds = (o: Operator) => o.steps.map((s) => s.kind);
    assert.deepEqual(kinds(buildAdminOperator(info, 'add-peer', [4], 0, ctx)), [
      'AddLearner',
      'PromoteLearner',
    ]);
    assert.deepEqual(kinds(buildAdminOperator(info, 'remove-peer', [1], 0, ctx)), [
      'TransferLeader',
      'RemovePeer',
    ]);
    assert.deepEqual(kinds(buildAdminOperator(info, 'remove-peer', [2], 0, ctx)), ['RemovePeer']);
    assert.deepEqual(kinds(buildAdminOperator(info, 'move-peer', [1, 4], 0, ctx)), [
      'AddLearner',
      'TransferLeader',
      'ChangePeersJoint',
      'RemovePeer',
    ]);
    assert.deepEqual(kinds(buildAdminOperator(info, 'transfer-leader', [3], 0, ctx)), [
      'TransferLeader',
    ]);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as PdError).code;
      }
      return 'none';
    };
    assert.equal(
      code(() => buildAdminOperator(info, 'add-peer', [9], 0, ctx)),
      'StoreUnavailable',
    );
    assert.equal(
      code(() => buildAdminOperator(info, 'add-peer', [2], 0, ctx)),
      'PeerNotFound',
    );
    assert.equal(
      code(() => buildAdminOperator(info, 'remove-peer', [5], 0, ctx)),
      'PeerNotFound',
    );
    assert.equal(
      code(() => buildAdminOperator(info, 'bogus', [5], 0, ctx)),
      'InvalidArgument',
    );
  });
});
