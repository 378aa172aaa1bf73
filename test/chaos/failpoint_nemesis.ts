// The failpoint nemesis: a store crashes at a named point of its write path (issue #6 §1,
// src/common/failpoint_names.ts) — armed through its status port as `1*panic`, so the
// next time the store passes that point it exits at once, without cleanup — and is
// restarted at the heal. Unlike kill -9 at a random instant, this lands exactly in the
// windows durability depends on:
//   raft_log_before_write  entries sent to followers, nothing of the turn in the log yet
//   raft_log_after_write   the turn's entries fsynced, no acknowledgement sent
//   apply_before           committed entries about to be applied
//   apply_after            entries and the apply index committed, Raft not advanced
import type { Nemesis } from './nemesis.js';

export const CRASH_FAILPOINTS = [
  'raft_log_before_write',
  'raft_log_after_write',
  'apply_before',
  'apply_after',
] as const;

/** The workload writes all the time: a store reaches each point within moments. */
const HIT_WITHIN_MS = 5000;

export const failpointNemesis: Nemesis = {
  name: 'failpoint',
  needsFailpoints: true,
  async inject(rng, cluster) {
    const name = rng.pick(cluster.storeNames());
    const fp = rng.pick(CRASH_FAILPOINTS);
    const what = `crash ${name} at failpoint ${fp}`;
    const crashed = await cluster.crashAtFailpoint(name, fp, HIT_WITHIN_MS);
    if (!crashed) {
      // Either never hit in time (failpoint removed, the store runs on) or it died some
      // other way (then the restart below brings it back, and its log says why).
      const down = cluster.isDown(name);
      return {
        description: `${what}: ${down ? 'exited, but not at the failpoint' : `not hit within ${HIT_WITHIN_MS} ms`}`,
        holdMs: rng.int(200, 1000),
        missed: down ? 'exited otherwise' : 'not hit',
        async heal() {
          if (down) await cluster.restart(name);
        },
      };
    }
    return {
      description: `${what}: exited`,
      holdMs: rng.int(500, 3000),
      async heal() {
        await cluster.restart(name);
      },
    };
  },
};
