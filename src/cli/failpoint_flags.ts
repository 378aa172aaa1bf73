// The failpoint flags of the server commands (`nyx pd start`, `nyx store start`), and
// turning them on before the server starts: a failpoint at a point the start itself
// passes (the first log write, the first PD metadata write) must already be armed.
import { Flags } from '@oclif/core';
import type { Logger } from '../common/logger.js';
import { configureFailpoints } from '../common/failpoint.js';

export const failpointFlags = {
  failpoints: Flags.string({
    description:
      'failpoints to set at start, e.g. raft_log_after_write=1*panic,apply_before=sleep(50) (for tests)',
    env: 'NYX_FAILPOINTS',
    helpValue: 'name=action,…',
  }),
  'allow-failpoints': Flags.boolean({
    description:
      'let the status port change failpoints at run time (PUT/DELETE /failpoints/<name>)',
    env: 'NYX_ALLOW_FAILPOINTS',
    default: false,
  }),
};

/** Set the failpoints of --failpoints; throws FailpointSpecError on a bad list. */
export function armFailpoints(
  flags: { failpoints?: string | undefined; 'allow-failpoints': boolean },
  log: Logger,
): void {
  const set = flags.failpoints ? configureFailpoints(flags.failpoints) : [];
  if (set.length > 0 || flags['allow-failpoints']) {
    log.warn(
      { failpoints: set.map((f) => `${f.name}=${f.action}`), runtime: flags['allow-failpoints'] },
      'failpoints enabled: this process is set up for fault testing',
    );
  }
}
