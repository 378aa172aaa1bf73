// The leader lease's bookkeeping (src/store/lease.ts): renewals count only for what was
// sent in the current generation, and every event that voids the lease starts a new one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderLease } from '../../src/store/lease.js';

describe('leader lease', () => {
  test('a renewal makes the lease valid until the send time plus its length', () => {
    const l = new LeaderLease(800);
    assert.equal(l.isValid(0), false);
    l.renew(100, l.currentGeneration());
    assert.equal(l.isValid(899), true);
    assert.equal(l.isValid(900), false);
    // An older send never shortens it.
    l.renew(50, l.currentGeneration());
    assert.equal(l.isValid(899), true);
  });

  for (const [what, voidIt] of [
    ['leadership changes or a transfer starts', (l: LeaderLease) => l.expire()],
    ['a membership change is applied', (l: LeaderLease) => l.expireOnConfChange()],
  ] as const) {
    test(`when ${what}, the lease and every renewal in flight are void`, () => {
      const l = new LeaderLease(800);
      const before = l.currentGeneration();
      l.renew(100, before);
      voidIt(l);
      assert.equal(l.isValid(150), false);
      // A proposal or read sent before, confirmed after: it proves nothing now.
      l.renew(140, before);
      assert.equal(l.isValid(150), false);
      // Something sent afterwards renews it again.
      l.renew(160, l.currentGeneration());
      assert.equal(l.isValid(900), true);
    });
  }
});
