// A split copier that copies only when the test lets it: the split's parent stays
// "applying a split" (its copy off the loop in flight) until release() is called.
import { copySplitOnOwnConnections, type SplitCopier } from '../../src/store/split_copy_worker.js';

export function heldSplitCopier(): {
  copier: SplitCopier;
  /** Whether a copy has started and waits. */
  waiting: () => boolean;
  release: () => void;
} {
  let release: (() => void) | undefined;
  const copier: SplitCopier = (req) =>
    new Promise((resolve, reject) => {
      release = () => {
        try {
          resolve(copySplitOnOwnConnections(req));
        } catch (e) {
          reject(e as Error);
        }
      };
    });
  return {
    copier,
    waiting: () => release !== undefined,
    release: () => {
      if (!release) throw new Error('no split copy is waiting');
      release();
    },
  };
}
