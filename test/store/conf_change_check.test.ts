// checkConfChange (conf_change.ts): what a leader refuses to propose. A voter never leaves
// in a joint change: the Region's meta writes an outgoing voter as DemotingVoter, and a
// replica that rebuilt its configuration from that meta (a restart in the middle of the
// joint configuration) made it a learner where its peers removed it, so their metas
// differed at one conf_ver and a split later applied on some replicas only (the store
// simulation's seed 500125 with --chaos-ms 8000).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfChangeType } from '../../src/raft/index.js';
import { PeerRole, type Region } from '../../src/region/meta.js';
import { checkConfChange, regionAfterConfChange } from '../../src/store/conf_change.js';
import { confStateOf } from '../../src/store/peer_loader.js';

const region: Region = {
  id: 1,
  startKey: Buffer.alloc(0),
  endKey: Buffer.alloc(0),
  epoch: { confVer: 3, version: 1 },
  peers: [
    { id: 11, storeId: 1, role: PeerRole.Voter },
    { id: 12, storeId: 2, role: PeerRole.Voter },
    { id: 13, storeId: 3, role: PeerRole.Voter },
    { id: 14, storeId: 4, role: PeerRole.Learner },
  ],
};
const alive = () => true;
const change = (id: number, storeId: number, type: ConfChangeType) => ({
  peer: { id, storeId },
  type,
});

test('a joint change may not remove a voter; it demotes it, and a learner is removed after', () => {
  const promote = change(14, 4, ConfChangeType.AddNode);
  assert.match(
    checkConfChange(region, 11, [promote, change(13, 3, ConfChangeType.RemoveNode)], alive)!,
    /peer 13 is a voter: demote it to a learner/,
  );
  assert.equal(
    checkConfChange(region, 11, [promote, change(13, 3, ConfChangeType.AddLearnerNode)], alive),
    undefined,
  );
  // Alone, a voter or a learner may be removed.
  assert.equal(
    checkConfChange(region, 11, [change(13, 3, ConfChangeType.RemoveNode)], alive),
    undefined,
  );
  assert.equal(
    checkConfChange(region, 11, [change(14, 4, ConfChangeType.RemoveNode)], alive),
    undefined,
  );
});

test('the demoting joint configuration reads back from the meta as Raft has it', () => {
  // Raft's configuration inside the joint change that promotes 14 and demotes 13.
  const joint = {
    voters: [11, 12, 14],
    votersOutgoing: [11, 12, 13],
    learners: [],
    learnersNext: [13],
    autoLeave: true,
  };
  const meta = regionAfterConfChange(region, joint, []);
  const rebuilt = confStateOf(meta);
  const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);
  assert.deepEqual(sorted(rebuilt.voters), [11, 12, 14]);
  assert.deepEqual(sorted(rebuilt.votersOutgoing), [11, 12, 13]);
  assert.deepEqual(rebuilt.learnersNext, [13]);
});
