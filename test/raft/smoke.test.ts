import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { StateRole } from '../../src/raft/index.js';

test('three nodes elect a leader and commit a proposal', () => {
  const c = new Cluster([1, 2, 3]);
  c.campaign(1);
  assert.equal(c.node(1).state, StateRole.Leader);
  c.propose(1, 'hello');
  for (const id of [1, 2, 3]) assert.deepEqual(c.node(id).appliedData(), ['hello']);
});
