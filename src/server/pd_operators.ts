// PD's operator RPCs (AddOperator, GetOperator, ListOperators, CancelOperator) over the
// operator controller, and its upkeep: timeouts, metrics and a log line per ended one.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { PdError, PdErrorCode } from '../pd/errors.js';
import type { PlacementDriver } from '../pd/placement_driver.js';
import { buildAdminOperator } from '../pd/schedule/admin_operator.js';
import { operatorToProto } from '../proto/convert_operator.js';
import type { PDHandlers } from '../proto/load.js';
import { uint64ToNumber } from '../proto/uint64.js';
import type { RequestHeader__Output } from '../proto-gen/nyx/pd/RequestHeader.js';
import type { PdMetrics } from './pd_metrics.js';
import type { StepToSend } from '../pd/schedule/operator_controller.js';

type Unary = <Req extends { header: RequestHeader__Output | null }, Res extends object>(
  method: string,
  body: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Omit<Res, 'header'>,
) => grpc.handleUnaryCall<Req, Res>;

/** Sends a step on the heartbeat stream of the leader's store (PdService). */
export type StepSender = (s: StepToSend) => void;

/**
 * Drive the Region's operator from PD's last view of it (what its leader last reported),
 * as a heartbeat would: a new operator's first step leaves at once, and a step whose
 * message was lost is sent again after the controller's resend interval, whatever the
 * stores' heartbeat interval.
 */
export function kickOperator(pd: PlacementDriver, regionId: number, send: StepSender): void {
  const info = pd.cluster.getRegionById(regionId);
  if (!info?.leader) return;
  const step = pd.operators.onHeartbeat({
    region: info.region,
    leader: info.leader,
    pendingPeers: pd.cluster.getRegionStats(regionId)?.pendingPeers ?? [],
  });
  if (step) send(step);
}

export function operatorHandlers(
  pd: PlacementDriver,
  unary: Unary,
  log: Logger,
  send: StepSender,
): Pick<PDHandlers, 'AddOperator' | 'GetOperator' | 'ListOperators' | 'CancelOperator'> {
  const ops = pd.operators;
  return {
    AddOperator: unary('AddOperator', (req) => {
      const regionId = uint64ToNumber(req.regionId, 'region id');
      const info = pd.cluster.getRegionById(regionId);
      if (!info) throw new PdError(PdErrorCode.RegionNotFound, `region ${regionId} not found`);
      const running = ops.running(regionId);
      if (running)
        throw new PdError(
          PdErrorCode.OperatorExists,
          `region ${regionId} has an operator already: ${running.desc} (id ${running.id}); cancel it first`,
        );
      const op = buildAdminOperator(
        info,
        req.kind,
        req.storeIds.map((s) => uint64ToNumber(s, 'store id')),
        req.timeoutMs,
        {
          allocId: () => pd.cluster.allocId(),
          now: () => pd.now(),
          storeUnusable: (id) => {
            const state = pd.storeLiveness(id);
            if (state === undefined) return 'is not registered';
            return state === 'Up' ? undefined : `is ${state}`;
          },
        },
      );
      const r = ops.add(op);
      if (!r.ok) throw new PdError(PdErrorCode.OperatorExists, r.reason);
      log.info(
        { region: regionId, operator: op.id, desc: op.desc, steps: op.steps.length },
        'operator added',
      );
      kickOperator(pd, regionId, send);
      return { operator: operatorToProto(op) };
    }),
    GetOperator: unary('GetOperator', (req) => {
      const regionId = uint64ToNumber(req.regionId, 'region id');
      const op = ops.latest(regionId);
      if (!op)
        throw new PdError(PdErrorCode.OperatorNotFound, `region ${regionId} has no operator`);
      return { operator: operatorToProto(op) };
    }),
    ListOperators: unary('ListOperators', (req) => ({
      operators: [...ops.allRunning(), ...(req.includeEnded ? ops.history() : [])].map(
        operatorToProto,
      ),
    })),
    CancelOperator: unary('CancelOperator', (req) => {
      const regionId = uint64ToNumber(req.regionId, 'region id');
      const op = ops.cancel(regionId);
      if (!op)
        throw new PdError(PdErrorCode.OperatorNotFound, `region ${regionId} runs no operator`);
      return { operator: operatorToProto(op) };
    }),
  };
}

/** Timeouts checked every second, metrics and logs of ended operators; returns a stop. */
export function watchOperators(
  pd: PlacementDriver,
  metrics: PdMetrics | undefined,
  log: Logger,
  send: StepSender,
): () => void {
  metrics?.watchOperators(() => pd.operators.allRunning().length);
  metrics?.watchHotRegions((kind) =>
    pd.hot.hotRegions(kind, pd.now(), (id) => pd.cluster.getRegionById(id) !== undefined),
  );
  pd.operators.onEnded((op) => {
    metrics?.operatorsEnded.inc({ kind: op.kind, status: op.status });
    log.info(
      {
        region: op.regionId,
        operator: op.id,
        desc: op.desc,
        status: op.status,
        step: op.currentStep,
      },
      'operator ended',
    );
  });
  const timer = setInterval(() => {
    pd.operators.expire();
    for (const op of pd.operators.allRunning()) kickOperator(pd, op.regionId, send);
  }, 500);
  timer.unref();
  return () => clearInterval(timer);
}
