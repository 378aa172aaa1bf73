// Unit tests of the membership-change machinery (thesis §4.1, §4.3): the Changer that
// computes a new configuration, the invariants it guards, restoring a configuration
// from a ConfState, and the binary codec of ConfChange entries.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Changer,
  ConfChangeError,
  ConfChangeResult,
  checkInvariants,
  decodeConfChange,
  encodeConfChange,
  isLeaveJoint,
  jointKind,
  restoreConfig,
} from '../../src/raft/confchange/index.js';
import { ProgressTracker, describeConfig } from '../../src/raft/tracker/index.js';
import {
  ConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfState,
  InvariantError,
  NodeId,
  SeededRand,
  emptyConfState,
} from '../../src/raft/index.js';

const LAST_INDEX = 10;
const add = (nodeId: NodeId): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId });
const remove = (nodeId: NodeId): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId });
const learner = (nodeId: NodeId): ConfChangeSingle => ({
  type: ConfChangeType.AddLearnerNode,
  nodeId,
});

function cs(fields: Partial<ConfState>): ConfState {
  return { ...emptyConfState(), ...fields };
}

function restore(c: ConfState): ConfChangeResult {
  return restoreConfig(c, LAST_INDEX, 256, 0);
}

function changer(r: ConfChangeResult): Changer {
  return new Changer(r.config, r.progress, LAST_INDEX, 256, 0);
}

function confStateOf(r: ConfChangeResult): ConfState {
  const trk = new ProgressTracker(256, 0);
  trk.config = r.config;
  trk.progress = r.progress;
  return trk.confState();
}

describe('Changer.simple', () => {
  test('adds, promotes, demotes and removes one voter at a time', () => {
    let r = restore(cs({ voters: [1, 2, 3] }));
    r = changer(r).simple([add(4)]);
    assert.equal(describeConfig(r.config), 'voters=(1 2 3 4)');
    const pr4 = r.progress.get(4)!;
    // A new peer is probed from the last index and counts as active until it can answer.
    assert.deepEqual(
      [pr4.match, pr4.next, pr4.recentActive, pr4.isLearner],
      [0, LAST_INDEX, true, false],
    );

    r = changer(r).simple([learner(5)]);
    r = changer(r).simple([add(5)]); // promote the learner
    assert.equal(describeConfig(r.config), 'voters=(1 2 3 4 5)');
    assert.equal(r.progress.get(5)!.isLearner, false);

    r = changer(r).simple([learner(4)]); // demote: one voter fewer, no joint phase needed
    assert.equal(describeConfig(r.config), 'voters=(1 2 3 5) learners=(4)');
    assert.equal(r.progress.get(4)!.isLearner, true);

    r = changer(r).simple([remove(4), remove(5)]); // one voter and one learner
    assert.equal(describeConfig(r.config), 'voters=(1 2 3)');
    assert.equal(r.progress.has(4), false);
    // Node 0 is never a member; a change of it is ignored.
    r = changer(r).simple([add(0)]);
    assert.equal(describeConfig(r.config), 'voters=(1 2 3)');
  });

  test('refuses to change two voters, to remove every voter, or to run while joint', () => {
    const r = restore(cs({ voters: [1, 2, 3] }));
    assert.throws(() => changer(r).simple([add(4), add(5)]), ConfChangeError);
    assert.throws(() => changer(r).simple([remove(1), add(4)]), ConfChangeError);
    assert.throws(() => changer(restore(cs({ voters: [1] }))).simple([remove(1)]), ConfChangeError);
    const joint = changer(r).enterJoint(false, [add(4)]);
    assert.throws(() => changer(joint).simple([add(5)]), ConfChangeError);
  });

  test('never mutates the configuration it starts from', () => {
    const r = restore(cs({ voters: [1, 2, 3], learners: [4] }));
    const before = describeConfig(r.config);
    const progressBefore = [...r.progress.entries()].map(([id, p]) => `${id}:${p}`);
    changer(r).simple([remove(3)]);
    changer(r).enterJoint(true, [add(5), learner(1)]);
    assert.throws(() => changer(r).simple([add(5), add(6)]), ConfChangeError);
    assert.equal(describeConfig(r.config), before);
    assert.deepEqual(
      [...r.progress.entries()].map(([id, p]) => `${id}:${p}`),
      progressBefore,
    );
  });
});

describe('Changer joint transitions', () => {
  test('entering joint keeps the old voters as the outgoing half', () => {
    const r = changer(restore(cs({ voters: [1, 2, 3] }))).enterJoint(true, [
      add(4),
      remove(2),
      learner(5),
    ]);
    assert.equal(describeConfig(r.config), 'voters=(1 3 4)&&(1 2 3) learners=(5) autoleave');
    // 2 still votes in the outgoing half, so its progress stays.
    assert.equal(r.progress.has(2), true);
    assert.throws(() => changer(r).enterJoint(false, [add(6)]), ConfChangeError, 'already joint');
  });

  test('a demoted outgoing voter waits in learnersNext until the leave', () => {
    const joint = changer(restore(cs({ voters: [1, 2, 3] }))).enterJoint(false, [learner(3)]);
    assert.equal(describeConfig(joint.config), 'voters=(1 2)&&(1 2 3) learners_next=(3)');
    assert.equal(joint.progress.get(3)!.isLearner, false);
    const left = changer(joint).leaveJoint();
    assert.equal(describeConfig(left.config), 'voters=(1 2) learners=(3)');
    assert.equal(left.progress.get(3)!.isLearner, true);
  });

  test('leaving drops the removed voters and the auto-leave flag', () => {
    const joint = changer(restore(cs({ voters: [1, 2, 3] }))).enterJoint(true, [
      remove(2),
      remove(3),
      add(4),
    ]);
    const left = changer(joint).leaveJoint();
    assert.equal(describeConfig(left.config), 'voters=(1 4)');
    assert.deepEqual([...left.progress.keys()].sort(), [1, 4]);
    assert.equal(left.config.autoLeave, false);
    assert.throws(() => changer(left).leaveJoint(), ConfChangeError, 'not joint');
  });

  test('refuses a joint config without voters before or after', () => {
    assert.throws(() => changer(restore(cs({}))).enterJoint(false, [add(1)]), ConfChangeError);
    assert.throws(
      () => changer(restore(cs({ voters: [1, 2] }))).enterJoint(false, [remove(1), remove(2)]),
      ConfChangeError,
    );
  });
});

describe('configuration invariants', () => {
  test('checkInvariants rejects inconsistent configurations', () => {
    const ok = restore(cs({ voters: [1, 2], learners: [3] }));
    assert.doesNotThrow(() => checkInvariants(ok.config, ok.progress));

    const bothRoles = restore(cs({ voters: [1, 2], learners: [3] }));
    bothRoles.config.voters.incoming.ids.add(3); // 3 is now a voter and a learner
    assert.throws(() => checkInvariants(bothRoles.config, bothRoles.progress), InvariantError);

    const noProgress = restore(cs({ voters: [1, 2] }));
    noProgress.progress.delete(2);
    assert.throws(() => checkInvariants(noProgress.config, noProgress.progress), InvariantError);

    const strayNext = restore(cs({ voters: [1, 2] }));
    strayNext.config.learnersNext.add(2); // learnersNext outside a joint config
    assert.throws(() => checkInvariants(strayNext.config, strayNext.progress), InvariantError);

    const autoLeave = restore(cs({ voters: [1, 2] }));
    autoLeave.config.autoLeave = true;
    assert.throws(() => checkInvariants(autoLeave.config, autoLeave.progress), InvariantError);
  });

  test('random change sequences keep the invariants and refuse what is invalid', () => {
    const rnd = new SeededRand(7);
    for (let trial = 0; trial < 100; trial++) {
      let r = restore(cs({ voters: [1, 2, 3] }));
      for (let step = 0; step < 12; step++) {
        const ccs = Array.from({ length: 1 + rnd.intn(3) }, () => {
          const id = 1 + rnd.intn(6);
          return [add(id), remove(id), learner(id)][rnd.intn(3)]!;
        });
        const ch = changer(r);
        const pick = rnd.intn(3);
        try {
          r =
            pick === 0
              ? ch.simple(ccs)
              : pick === 1
                ? ch.enterJoint(rnd.intn(2) === 0, ccs)
                : ch.leaveJoint();
        } catch (e) {
          assert.ok(e instanceof ConfChangeError, String(e));
          continue;
        }
        // A successful change never leaves a configuration without voters.
        assert.ok(r.config.voters.incoming.size > 0);
        checkInvariants(r.config, r.progress);
      }
    }
  });
});

describe('restoreConfig', () => {
  const norm = (c: ConfState) => ({
    voters: [...c.voters].sort(),
    votersOutgoing: [...c.votersOutgoing].sort(),
    learners: [...c.learners].sort(),
    learnersNext: [...c.learnersNext].sort(),
    autoLeave: c.autoLeave,
  });

  test('round-trips plain and joint ConfStates', () => {
    const cases: ConfState[] = [
      cs({}),
      cs({ voters: [1] }),
      cs({ voters: [1, 2, 3], learners: [4, 5] }),
      cs({ voters: [1, 2, 3], votersOutgoing: [1, 2, 3] }),
      cs({ voters: [1, 4, 5], votersOutgoing: [1, 2, 3], learners: [6], autoLeave: true }),
      cs({ voters: [1, 2], votersOutgoing: [1, 2, 3], learnersNext: [3] }),
      cs({ voters: [4, 5], votersOutgoing: [1, 2], learners: [7], learnersNext: [1, 2] }),
    ];
    for (const c of cases) {
      const r = restore(c);
      assert.deepEqual(norm(confStateOf(r)), norm(c), JSON.stringify(c));
      checkInvariants(r.config, r.progress);
      // Every member gets a progress, fresh at the last index.
      const members = new Set([...c.voters, ...c.votersOutgoing, ...c.learners, ...c.learnersNext]);
      assert.deepEqual([...r.progress.keys()].sort(), [...members].sort());
    }
  });

  test('restoring the ConfState of any reachable configuration gives it back', () => {
    const rnd = new SeededRand(11);
    for (let trial = 0; trial < 200; trial++) {
      let r = restore(cs({ voters: [1, 2, 3] }));
      for (let step = 0; step < 6; step++) {
        const ccs = Array.from({ length: 1 + rnd.intn(3) }, () => {
          const id = 1 + rnd.intn(6);
          return [add(id), remove(id), learner(id)][rnd.intn(3)]!;
        });
        try {
          const ch = changer(r);
          r = r.config.voters.isJoint() ? ch.leaveJoint() : ch.enterJoint(rnd.intn(2) === 0, ccs);
        } catch (e) {
          assert.ok(e instanceof ConfChangeError);
        }
        const state = confStateOf(r);
        const back = restore(state);
        assert.equal(describeConfig(back.config), describeConfig(r.config));
        for (const [id, pr] of r.progress)
          assert.equal(back.progress.get(id)?.isLearner, pr.isLearner);
      }
    }
  });
});

describe('ConfChange codec', () => {
  test('encode/decode round trip for every transition and change type', () => {
    const cases: ConfChange[] = [
      { transition: ConfChangeTransition.Auto, changes: [] },
      { transition: ConfChangeTransition.Auto, changes: [add(1)] },
      {
        transition: ConfChangeTransition.JointImplicit,
        changes: [add(2), remove(3), learner(4)],
      },
      {
        transition: ConfChangeTransition.JointExplicit,
        changes: [add(2 ** 40 + 3), learner(Number.MAX_SAFE_INTEGER)],
        context: new Uint8Array([1, 2, 3, 250]),
      },
    ];
    for (const cc of cases) assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  });

  test('decodes from a view into a larger buffer', () => {
    const cc: ConfChange = {
      transition: ConfChangeTransition.JointExplicit,
      changes: [remove(9)],
      context: Buffer.from('peer-9'),
    };
    const enc = encodeConfChange(cc);
    const big = new Uint8Array(enc.length + 10).fill(0xee);
    big.set(enc, 5);
    const got = decodeConfChange(big.subarray(5, 5 + enc.length));
    assert.deepEqual(got.changes, cc.changes);
    assert.equal(Buffer.from(got.context!).toString(), 'peer-9');
  });

  test('malformed input is rejected', () => {
    assert.throws(() => decodeConfChange(new Uint8Array(0)), InvariantError);
    const enc = encodeConfChange({ transition: ConfChangeTransition.Auto, changes: [add(1)] });
    const badVersion = enc.slice();
    badVersion[0] = 2;
    assert.throws(() => decodeConfChange(badVersion), InvariantError);
    const badType = enc.slice();
    badType[4] = 9;
    assert.throws(() => decodeConfChange(badType), InvariantError);
  });

  test('which changes are joint, and which leave automatically', () => {
    const k = (transition: ConfChangeTransition, n: number) =>
      jointKind({ transition, changes: Array.from({ length: n }, (_, i) => add(i + 1)) });
    assert.deepEqual(k(ConfChangeTransition.Auto, 1), { joint: false, autoLeave: false });
    assert.deepEqual(k(ConfChangeTransition.Auto, 2), { joint: true, autoLeave: true });
    assert.deepEqual(k(ConfChangeTransition.JointImplicit, 1), { joint: true, autoLeave: true });
    assert.deepEqual(k(ConfChangeTransition.JointExplicit, 2), { joint: true, autoLeave: false });
    assert.equal(isLeaveJoint({ transition: ConfChangeTransition.Auto, changes: [] }), true);
    assert.equal(isLeaveJoint({ transition: ConfChangeTransition.Auto, changes: [add(1)] }), false);
  });
});
