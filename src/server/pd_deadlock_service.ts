// The DetectDeadlock RPC of nyx.pd.PD: conversions between the wire and the cluster's
// wait-for graph (src/pd/deadlock_detector.ts), kept out of pd_service.ts, which routes.
import { PdError, PdErrorCode } from '../pd/errors.js';
import type { PlacementDriver } from '../pd/placement_driver.js';
import { toUint64, wireIntToBigInt } from '../proto/uint64.js';
import type { DetectDeadlockRequest__Output } from '../proto-gen/nyx/pd/DetectDeadlockRequest.js';
import type { DetectDeadlockResponse } from '../proto-gen/nyx/pd/DetectDeadlockResponse.js';

export function detectDeadlock(
  pd: PlacementDriver,
  req: DetectDeadlockRequest__Output,
): Omit<DetectDeadlockResponse, 'header'> {
  if (!req.edge) throw new PdError(PdErrorCode.InvalidArgument, 'DetectDeadlock without an edge');
  const txn = wireIntToBigInt(req.edge.txn);
  const waitFor = wireIntToBigInt(req.edge.waitForTxn);
  if (txn <= 0n || waitFor <= 0n) {
    throw new PdError(PdErrorCode.InvalidArgument, 'a wait-for edge names transactions above 0');
  }
  if (req.kind === 'CLEAN_UP_WAIT') {
    pd.deadlocks.cleanUpWait(txn, waitFor);
    return { waitChain: [] };
  }
  const cycle = pd.deadlocks.detect(txn, waitFor, req.edge.key);
  return {
    waitChain: (cycle ?? []).map((e) => ({
      txn: toUint64(e.txn),
      waitForTxn: toUint64(e.waitForTxn),
      key: e.key,
    })),
  };
}
