// The gRPC bindings of nyx.pd.PD over a PlacementDriver. Thin on purpose: check the
// header, convert the request, call the cluster / TSO / id allocator, convert back. Every
// response carries header.cluster_id, and every failure — typed PdErrors, malformed
// requests, even bugs — becomes header.error {type, message} rather than a gRPC status or
// a crashed process, so callers always get an answer they can act on.
//
// Caller identity: `identityOf` names the store a call comes from. It is where mutual TLS
// plugs in (the store id from the peer's certificate); until then it answers undefined
// and the PD core applies its plaintext rules. In plaintext, a Region heartbeat stream
// is additionally bound to the store of the first leader it reports (and to the header's
// sender_id when set): a stream speaks for one store, so one connection cannot mix the
// reports of several. That stops a confused or buggy client, not a forger, who simply
// opens one stream per store it pretends to be.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import type { ConfigItemView } from '../pd/config/pd_config.js';
import { layoutFromRequest } from '../pd/initial_regions.js';
import { PdError, PdErrorCode } from '../pd/errors.js';
import type { CallerIdentity } from '../pd/identity.js';
import type { PlacementDriver } from '../pd/placement_driver.js';
import type { RaftTiming } from '../pd/raft_timing.js';
import { MAX_TSO_COUNT } from '../pd/tso.js';
import { DEFAULT_TSO_STREAM_RATE, TsoRateLimiter } from '../pd/tso_rate_limiter.js';
import type { Region } from '../region/meta.js';
import { formatKey } from '../region/meta.js';
import {
  epochToProto,
  peerToProto,
  regionFromProto,
  regionToProto,
  storeToProto,
} from '../proto/convert_meta.js';
import { checkSplitKeys, splitVisible } from '../pd/split.js';
import { checkMerge, mergeVisible } from '../pd/merge.js';
import {
  errorToProto,
  regionHeartbeatFromProto,
  regionInfoToProto,
  regionLookupToProto,
  storeStatsFromProto,
  storeStatsToProto,
  tsToProto,
} from '../proto/convert_pd.js';
import type { PDHandlers } from '../proto/load.js';
import { toUint64, uint64ToNumber } from '../proto/uint64.js';
import type { ConfigItem } from '../proto-gen/nyx/pd/ConfigItem.js';
import type { Error as ErrorMsg } from '../proto-gen/nyx/pd/Error.js';
import type { RequestHeader__Output } from '../proto-gen/nyx/pd/RequestHeader.js';
import type { ResponseHeader } from '../proto-gen/nyx/pd/ResponseHeader.js';
import type { PdMetrics } from './pd_metrics.js';
import { getGcSafePoint, getGcStatus, updateServiceGcSafePoint } from './pd_gc_service.js';
import { detectDeadlock } from './pd_deadlock_service.js';
import type { ScheduleCoordinator } from '../pd/schedule/coordinator.js';
import { explanationToProto, schedulerToProto } from '../proto/convert_schedule.js';
import { operatorHandlers, watchOperators } from './pd_operators.js';
import { stepToProto } from '../proto/convert_operator.js';
import type { StepToSend } from '../pd/schedule/operator_controller.js';

export interface PdServiceOptions {
  logger: Logger;
  metrics?: PdMetrics;
  /** The authenticated store behind a call (mTLS); undefined in plaintext mode. */
  identityOf?: (call: PdCall) => CallerIdentity | undefined;
  /** Timestamps one Tso stream may draw per second. */
  tsoStreamRate?: number;
  /** PD's scheduling (store removal, schedulers, region explain); absent: refused. */
  scheduling?: ScheduleCoordinator;
}

type AnyStream = grpc.ServerDuplexStream<unknown, unknown>;
/** What every call has (peer address, metadata, and with TLS the peer certificate). */
export type PdCall = grpc.ServerUnaryCall<unknown, unknown> | AnyStream;

/** The PD service: its handlers, plus a way to end its long-lived streams at shutdown. */
export class PdService {
  /** Stores that sent a heartbeat since this PD started. */
  private readonly storesHeard = new Set<number>();
  readonly handlers: PDHandlers;
  private readonly streams = new Set<AnyStream>();
  private readonly log: Logger;
  private readonly metrics: PdMetrics | undefined;
  private readonly identityOf: (call: PdCall) => CallerIdentity | undefined;
  private readonly tsoStreamRate: number;
  /** Each store's Region heartbeat stream: where PD sends operator steps for its leaders. */
  private readonly heartbeatStreams = new Map<
    number,
    Parameters<PDHandlers['RegionHeartbeat']>[0]
  >();

  constructor(
    private readonly pd: PlacementDriver,
    opts: PdServiceOptions,
  ) {
    this.log = opts.logger;
    this.metrics = opts.metrics;
    this.identityOf = opts.identityOf ?? (() => undefined);
    this.tsoStreamRate = opts.tsoStreamRate ?? DEFAULT_TSO_STREAM_RATE;
    const cluster = pd.cluster;
    const scheduling = (): ScheduleCoordinator => {
      if (!opts.scheduling) throw invalid('this PD runs no scheduling');
      return opts.scheduling;
    };
    const sendStep = (s: StepToSend) => {
      const stream = this.heartbeatStreams.get(s.leader.storeId);
      if (stream) safeWrite(stream, { header: this.header(), ...stepToProto(s) });
    };
    this.stopOperators = watchOperators(pd, this.metrics, this.log, sendStep);
    this.metrics?.watchDeadlocks(pd.deadlocks);
    this.handlers = {
      Bootstrap: this.unary('Bootstrap', (req) => {
        const layout = layoutFromRequest(req.splitKeys, req.evenSplits);
        const storeIds = req.storeIds.map((s) => uint64ToNumber(s, 'store id'));
        const regions = cluster.bootstrap(layout, storeIds);
        this.logBootstrap(regions, 'request');
        return { regions: regions.map(regionToProto) };
      }),
      IsBootstrapped: this.unary('IsBootstrapped', () => ({
        bootstrapped: cluster.isBootstrapped(),
      })),
      AllocID: this.unary('AllocID', () => ({ id: toUint64(cluster.allocId()) })),
      PutStore: this.unary('PutStore', (req, call) => {
        if (!req.store) throw invalid('PutStore without a store');
        const s = req.store;
        const store = cluster.putStore(
          {
            id: uint64ToNumber(s.id, 'store id'),
            address: s.address,
            statusAddress: s.statusAddress,
            labels: s.labels,
            raftTiming: raftTimingFromRequest(req.tickMs, req.electionTicks),
          },
          this.identityOf(call),
        );
        this.log.info({ store: store.id, address: store.address }, 'store registered');
        // Automatic bootstrap: the registration that brings enough stores Up cuts the
        // key space with the configured layout. Stores learn their Regions by scanning.
        const regions = cluster.maybeBootstrap();
        if (regions) this.logBootstrap(regions, 'initial stores up');
        return {};
      }),
      GetStore: this.unary('GetStore', (req) => {
        const id = uint64ToNumber(req.storeId, 'store id');
        const store = cluster.getStore(id);
        if (!store) throw new PdError(PdErrorCode.StoreNotFound, `store ${id} is not registered`);
        const stats = cluster.getStoreStats(id);
        // Region and leader counts are PD's own, from Region heartbeats.
        const counts = cluster.getStoreCounts(id);
        const now = pd.now();
        return {
          store: storeToProto(store),
          stats: stats ? storeStatsToProto({ ...stats, ...counts, storeId: id }) : null,
          liveness: pd.liveness.stateOf(store, now),
          heartbeatAgeMs: store.lastHeartbeatMs > 0 ? String(now - store.lastHeartbeatMs) : '-1',
        };
      }),
      GetAllStores: this.unary('GetAllStores', (req) => ({
        stores: cluster.getAllStores(req.excludeTombstoneStores).map((s) => storeToProto(s)),
      })),
      StoreHeartbeat: this.unary('StoreHeartbeat', (req, call) => {
        if (!req.stats) throw invalid('StoreHeartbeat without stats');
        const { storeId, ...stats } = storeStatsFromProto(req.stats);
        cluster.storeHeartbeat(storeId, stats, this.identityOf(call));
        this.metrics?.storeHeartbeats.inc();
        // Leaders are volatile: after a restart PD asks each store once to report them.
        const first = !this.storesHeard.has(storeId);
        this.storesHeard.add(storeId);
        // The settings travel only when the store's version is not PD's: a heartbeat
        // every few seconds stays small, and a change reaches every store within one.
        const config = pd.config;
        const stale = req.configVersion !== String(config.version);
        return {
          requireRegionHeartbeats: first,
          configVersion: toUint64(config.version),
          config: stale ? config.entries() : [],
        };
      }),
      GetConfig: this.unary('GetConfig', () => ({
        items: pd.config.items().map(configItemToProto),
        version: toUint64(pd.config.version),
      })),
      SetConfig: this.unary('SetConfig', (req) => {
        let changed;
        try {
          changed = pd.config.set(req.name, req.value);
        } catch (e) {
          throw invalid((e as Error).message);
        }
        this.log.info(
          { name: req.name, old: changed.old.value, value: changed.now.value },
          'config changed',
        );
        return {
          oldItem: configItemToProto(changed.old),
          item: configItemToProto(changed.now),
          version: toUint64(pd.config.version),
        };
      }),
      GetRegion: this.unary('GetRegion', (req) => {
        this.requireBootstrapped();
        const info = cluster.getRegion(req.regionKey);
        if (!info) {
          throw new PdError(
            PdErrorCode.RegionNotFound,
            `no region holds key ${formatKey(req.regionKey)}`,
          );
        }
        return regionLookupToProto(info, cluster.getRegionStats(info.region.id));
      }),
      GetRegionByID: this.unary('GetRegionByID', (req) => {
        this.requireBootstrapped();
        const id = uint64ToNumber(req.regionId, 'region id');
        const info = cluster.getRegionById(id);
        if (!info) throw new PdError(PdErrorCode.RegionNotFound, `region ${id} not found`);
        return regionLookupToProto(info, cluster.getRegionStats(id));
      }),
      // Before bootstrap there are simply no Regions: stores poll this until theirs
      // appear, so an empty answer is more useful to them than an error.
      ScanRegions: this.unary('ScanRegions', (req) => {
        const infos = cluster.scanRegions(req.startKey, req.endKey, req.limit);
        const now = pd.now();
        return {
          regions: infos.map((i) =>
            regionInfoToProto({ ...i, hot: pd.hot.hotKinds(i.region.id, now) }),
          ),
        };
      }),
      GetGCSafePoint: this.unary('GetGCSafePoint', (req, call) =>
        getGcSafePoint(pd, req, this.identityOf(call)),
      ),
      UpdateServiceGCSafePoint: this.unary('UpdateServiceGCSafePoint', (req) =>
        updateServiceGcSafePoint(pd, req),
      ),
      GetGCStatus: this.unary('GetGCStatus', () => getGcStatus(pd)),
      DetectDeadlock: this.unary('DetectDeadlock', (req) => detectDeadlock(pd, req)),
      // Scheduling: src/pd/schedule/ decides; these only convert.
      RemoveStore: this.unary('RemoveStore', (req) => {
        const store = scheduling().removeStore(uint64ToNumber(req.storeId, 'store id'));
        this.log.info({ store: store.id, state: store.state }, 'store removal requested');
        return { store: storeToProto(store) };
      }),
      ListSchedulers: this.unary('ListSchedulers', () => ({
        schedulers: scheduling().schedulers.list().map(schedulerToProto),
      })),
      ChangeScheduler: this.unary('ChangeScheduler', (req) => {
        const reg = scheduling().schedulers;
        const pauseMs = uint64ToNumber(req.pauseMs, 'pause ms');
        const actions: Record<string, () => ReturnType<typeof reg.view>> = {
          add: () => reg.add(req.name),
          remove: () => reg.remove(req.name),
          pause: () => reg.pause(req.name, pauseMs),
          resume: () => reg.resume(req.name),
        };
        const act = actions[req.action];
        if (!act) throw invalid(`unknown scheduler action ${JSON.stringify(req.action)}`);
        const view = act();
        this.log.info(
          { scheduler: req.name, action: req.action, state: view.state },
          'scheduler changed',
        );
        return { scheduler: schedulerToProto(view) };
      }),
      ExplainRegion: this.unary('ExplainRegion', (req) => {
        this.requireBootstrapped();
        return explanationToProto(scheduling().explain(uint64ToNumber(req.regionId, 'region id')));
      }),
      RegionHeartbeat: (call) => this.regionHeartbeatStream(call),
      Tso: (call) => this.tsoStream(call),
      AskBatchSplit: this.unary('AskBatchSplit', (req) => {
        if (!req.region) throw invalid('AskBatchSplit without a region');
        const ids = cluster.askBatchSplit(regionFromProto(req.region), req.splitCount);
        return {
          ids: ids.map((x) => ({
            newRegionId: toUint64(x.newRegionId),
            newPeerIds: x.newPeerIds.map(toUint64),
          })),
        };
      }),
      ...operatorHandlers(pd, (name, body) => this.unary(name, body), this.log, sendStep),
      SplitRegions: (call, callback) => {
        const start = process.hrtime.bigint();
        this.splitRegions(call.request).then(
          (regions) => {
            this.observe('SplitRegions', 'ok', start);
            callback(null, { header: this.header(), regions });
          },
          (e: unknown) => {
            const error = this.toError(e, 'SplitRegions');
            this.observe('SplitRegions', String(error.type), start);
            callback(null, { header: this.header(error), regions: [] });
          },
        );
      },
      MergeRegions: (call, callback) => {
        const start = process.hrtime.bigint();
        this.mergeRegions(call.request).then(
          (region) => {
            this.observe('MergeRegions', 'ok', start);
            callback(null, { header: this.header(), region });
          },
          (e: unknown) => {
            const error = this.toError(e, 'MergeRegions');
            this.observe('MergeRegions', String(error.type), start);
            callback(null, { header: this.header(error) });
          },
        );
      },
    };
  }

  // --- manual merge ---

  /**
   * A merge by hand: the source's leader gets the merge step on its store's heartbeat
   * stream (re-sent when leadership moves or after a second without news), and the answer
   * waits until PD's map shows the target covering both ranges (src/pd/merge.ts).
   */
  private async mergeRegions(
    req: Parameters<PDHandlers['MergeRegions']>[0]['request'],
  ): Promise<ReturnType<typeof regionInfoToProto>> {
    this.checkHeader(req.header);
    this.requireBootstrapped();
    const cluster = this.pd.cluster;
    const find = (what: string, id: number) => {
      const info = cluster.getRegionById(id);
      if (!info) throw new PdError(PdErrorCode.RegionNotFound, `${what} region ${id} not found`);
      return info;
    };
    const source = find('source', uint64ToNumber(req.sourceId, 'source id')).region;
    const target = find('target', uint64ToNumber(req.targetId, 'target id')).region;
    checkMerge(source, target);
    const timeoutMs = req.timeoutMs > 0 ? req.timeoutMs : 20_000;
    const deadline = Date.now() + timeoutMs;
    const lookup = { byId: (x: number) => cluster.getRegionById(x)?.region };
    let sent: { store: number; atMs: number } | undefined;
    while (!mergeVisible(source, target, lookup)) {
      const now = cluster.getRegionById(source.id);
      const leader = now?.leader;
      const stream = leader && this.heartbeatStreams.get(leader.storeId);
      if (
        now &&
        leader &&
        stream &&
        (sent?.store !== leader.storeId || Date.now() - sent.atMs > 1000)
      ) {
        safeWrite(stream, {
          header: this.header(),
          regionId: toUint64(source.id),
          regionEpoch: epochToProto(now.region.epoch),
          targetPeer: peerToProto(leader),
          mergeRegion: {
            target: regionToProto(cluster.getRegionById(target.id)?.region ?? target),
          },
        });
        if (sent?.store !== leader.storeId)
          this.log.info(
            { source: source.id, target: target.id, store: leader.storeId },
            'merge sent to leader',
          );
        sent = { store: leader.storeId, atMs: Date.now() };
      }
      if (Date.now() >= deadline)
        throw new PdError(
          PdErrorCode.ServerIsBusy,
          `region ${source.id} did not merge into region ${target.id} within ${timeoutMs} ms` +
            (leader ? '' : ' (PD knows no leader for it)'),
        );
      await new Promise((r) => setTimeout(r, 20));
    }
    return regionInfoToProto(cluster.getRegionById(target.id)!);
  }

  private readonly stopOperators: () => void;

  /** Ends every open stream (clients see a clean end and reconnect elsewhere or later). */
  endStreams(): void {
    this.stopOperators();
    for (const s of this.streams) {
      try {
        s.end();
      } catch {
        // Already torn down by the transport.
      }
    }
    this.streams.clear();
  }

  // --- manual split ---

  /**
   * A split by hand: the Region's leader gets it as an operator step on its store's
   * heartbeat stream, and the answer waits until PD's map shows the halves (their
   * heartbeats follow the split's apply at once, see src/store/split_runner.ts).
   */
  private async splitRegions(
    req: Parameters<PDHandlers['SplitRegions']>[0]['request'],
  ): Promise<ReturnType<typeof regionInfoToProto>[]> {
    this.checkHeader(req.header);
    this.requireBootstrapped();
    const cluster = this.pd.cluster;
    const id = uint64ToNumber(req.regionId, 'region id');
    const first = req.splitKeys[0];
    const info =
      id !== 0
        ? cluster.getRegionById(id)
        : first !== undefined
          ? cluster.getRegion(first)
          : undefined;
    if (!info) {
      throw new PdError(
        PdErrorCode.RegionNotFound,
        id !== 0 ? `region ${id} not found` : 'no region holds the split key',
      );
    }
    const region = info.region;
    const keys = checkSplitKeys(region, req.splitKeys);
    const timeoutMs = req.timeoutMs > 0 ? req.timeoutMs : 10_000;
    const deadline = Date.now() + timeoutMs;
    const lookup = {
      byId: (x: number) => cluster.getRegionById(x)?.region,
      byKey: (k: Buffer) => cluster.getRegion(k)?.region,
    };
    let sentTo: number | undefined;
    for (;;) {
      if (splitVisible(region, keys, lookup)) break;
      // (Re)send to the leader PD knows now: leadership may move while we wait.
      const leader = cluster.getRegionById(region.id)?.leader;
      const stream = leader && this.heartbeatStreams.get(leader.storeId);
      if (leader && stream && sentTo !== leader.storeId) {
        safeWrite(stream, {
          header: this.header(),
          regionId: toUint64(region.id),
          regionEpoch: epochToProto(region.epoch),
          targetPeer: peerToProto(leader),
          splitRegion: { keys },
        });
        sentTo = leader.storeId;
        this.log.info(
          { region: region.id, store: leader.storeId, keys: keys.map(formatKey) },
          'split sent to leader',
        );
      }
      if (Date.now() >= deadline) {
        throw new PdError(
          PdErrorCode.ServerIsBusy,
          `region ${region.id} did not report the split within ${timeoutMs} ms` +
            (leader ? '' : ' (PD knows no leader for it)'),
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return cluster.scanRegions(region.startKey, region.endKey).map(regionInfoToProto);
  }

  // --- streams ---

  /**
   * One stream per store carries all its leaders' heartbeats. Each is applied as it
   * arrives; PD answers only with an instruction (there are no schedulers yet) or when
   * the heartbeat was refused, e.g. a stale epoch, so the leader learns why.
   */
  private regionHeartbeatStream(call: Parameters<PDHandlers['RegionHeartbeat']>[0]): void {
    this.track(call as AnyStream);
    const identity = this.identityOf(call);
    /** Plaintext: the store this stream speaks for, fixed by its first report. */
    let boundStore: number | undefined;
    const forget = () => {
      for (const [store, s] of this.heartbeatStreams)
        if (s === call) this.heartbeatStreams.delete(store);
    };
    call.on('close', forget);
    call.on('cancelled', forget);
    call.on('error', forget);
    call.on('data', (req) => {
      const start = process.hrtime.bigint();
      let result: string;
      let code = 'ok';
      try {
        this.checkHeader(req.header);
        const hb = regionHeartbeatFromProto(req);
        if (!identity) {
          const sender = uint64ToNumber(req.header?.senderId ?? '0', 'sender id');
          boundStore ??= sender || hb.leader.storeId;
          if (hb.leader.storeId !== boundStore) {
            throw new PdError(
              PdErrorCode.PermissionDenied,
              `this heartbeat stream speaks for store ${boundStore}, not for store ${hb.leader.storeId}`,
            );
          }
        }
        const r = this.pd.cluster.regionHeartbeat(hb, identity);
        if (r.replaced.length > 0) this.pd.operators.onRegionsReplaced(r.replaced);
        if (r.merged?.length) this.metrics?.regionMerges.inc(r.merged.length);
        // Where operator steps for this store's leaders go (SplitRegions).
        this.heartbeatStreams.set(identity?.storeId ?? hb.leader.storeId, call);
        // The Region's operator advances on its leader's heartbeats (operator_controller.ts).
        const step = this.pd.operators.onHeartbeat({
          region: hb.region,
          leader: hb.leader,
          pendingPeers: hb.stats?.pendingPeers ?? [],
        });
        if (step) safeWrite(call, { header: this.header(), ...stepToProto(step) });
        result = r.changed ? 'changed' : 'unchanged';
        if (r.changed) {
          this.log.info(
            { region: req.region?.id, epoch: req.region?.regionEpoch, replaced: r.replaced },
            'region meta changed',
          );
        }
      } catch (e) {
        const error = this.toError(e, 'RegionHeartbeat');
        result = code = String(error.type);
        safeWrite(call, { header: this.header(error), regionId: req.region?.id ?? '0' });
      }
      this.metrics?.regionHeartbeats.inc({ result });
      this.observe('RegionHeartbeat', code, start);
    });
  }

  /**
   * Each request {count} is answered, in order, with the LAST timestamp of a batch of
   * `count` sharing one physical time; the client derives the others. The allocator is
   * synchronous, so answering inside the 'data' handler keeps the order.
   */
  private tsoStream(call: Parameters<PDHandlers['Tso']>[0]): void {
    this.track(call as AnyStream);
    const budget = new TsoRateLimiter(this.tsoStreamRate);
    call.on('data', (req) => {
      const start = process.hrtime.bigint();
      let code = 'ok';
      try {
        this.checkHeader(req.header);
        if (req.count < 1 || req.count > MAX_TSO_COUNT) {
          throw invalid(`TSO count must be in 1..${MAX_TSO_COUNT}, got ${req.count}`);
        }
        budget.take(req.count);
        let ts: bigint;
        try {
          ts = this.pd.tso.getTimestamp(req.count);
        } catch (e) {
          budget.refund(req.count);
          throw e;
        }
        safeWrite(call, { header: this.header(), count: req.count, timestamp: tsToProto(ts) });
        this.metrics?.tsoTimestamps.inc(req.count);
      } catch (e) {
        const error = this.toError(e, 'Tso');
        code = String(error.type);
        safeWrite(call, { header: this.header(error), count: 0 });
      }
      this.metrics?.tsoRequests.inc();
      this.observe('Tso', code, start);
    });
  }

  private track(call: AnyStream): void {
    this.streams.add(call);
    const forget = () => this.streams.delete(call);
    // The client closed its side: close ours, which completes the call.
    call.on('end', () => {
      forget();
      safeEnd(call);
    });
    call.on('error', (e: Error) => {
      forget();
      this.log.debug({ err: e.message }, 'stream error');
    });
    call.on('cancelled', forget);
    call.on('close', forget);
  }

  // --- unary plumbing ---

  /**
   * Wraps a handler body: header check, typed errors into header.error, metrics. The body
   * returns the response without its header.
   */
  private unary<Req extends { header: RequestHeader__Output | null }, Res extends object>(
    method: string,
    body: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Omit<Res, 'header'>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const start = process.hrtime.bigint();
      let res: Res;
      let code = 'ok';
      try {
        this.checkHeader(call.request.header);
        res = { ...body(call.request, call), header: this.header() } as Res;
      } catch (e) {
        const error = this.toError(e, method);
        code = String(error.type);
        res = { header: this.header(error) } as Res;
      }
      this.observe(method, code, start);
      callback(null, res);
    };
  }

  private header(error?: ErrorMsg): ResponseHeader {
    return { clusterId: toUint64(this.pd.clusterId), error: error ?? null };
  }

  /** cluster_id 0 means "not known yet"; anything else must be ours. */
  private checkHeader(h: RequestHeader__Output | null): void {
    if (!h || h.clusterId === '0' || h.clusterId === String(this.pd.clusterId)) return;
    throw new PdError(
      PdErrorCode.ClusterIdMismatch,
      `request is for cluster ${h.clusterId} but this PD serves cluster ${this.pd.clusterId}`,
    );
  }

  private requireBootstrapped(): void {
    if (!this.pd.cluster.isBootstrapped()) {
      throw new PdError(PdErrorCode.NotBootstrapped, 'cluster is not bootstrapped yet');
    }
  }

  private toError(e: unknown, method: string): ErrorMsg {
    const error = errorToProto(e);
    if (error.type === PdErrorCode.Unknown) {
      // Not a typed refusal: a bug or a broken disk. Answer, but make it loud.
      this.log.error({ err: e, method }, 'PD request failed unexpectedly');
    } else {
      this.log.debug({ method, type: error.type, msg: error.message }, 'PD request refused');
    }
    return error;
  }

  private observe(method: string, code: string, start: bigint): void {
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    this.metrics?.grpcDuration.observe({ method, code }, secs);
  }

  private logBootstrap(regions: Region[], reason: string): void {
    this.log.info(
      {
        reason,
        regions: regions.map((r) => ({
          id: r.id,
          start: formatKey(r.startKey),
          end: formatKey(r.endKey),
        })),
        stores: regions[0]?.peers.map((p) => p.storeId) ?? [],
      },
      `cluster bootstrapped with ${regions.length} region(s)`,
    );
  }
}

/** The store's Raft timing from PutStore: both set, or neither (0: not reported). */
function raftTimingFromRequest(tickMs: number, electionTicks: number): RaftTiming | undefined {
  if (tickMs === 0 && electionTicks === 0) return undefined;
  if (tickMs === 0 || electionTicks === 0) {
    throw invalid('PutStore must carry both tick_ms and election_ticks, or neither');
  }
  return { tickMs, electionTicks };
}

function configItemToProto(i: ConfigItemView): ConfigItem {
  return {
    name: i.name,
    type: i.type,
    value: i.value,
    defaultValue: i.default,
    description: i.description,
  };
}

function invalid(msg: string): PdError {
  return new PdError(PdErrorCode.InvalidArgument, msg);
}

/** A reply to a stream the client may have cancelled meanwhile: drop it, don't throw. */
function safeWrite<T>(call: grpc.ServerDuplexStream<unknown, T>, msg: T): void {
  if (call.cancelled || call.writableEnded || call.destroyed) return;
  try {
    call.write(msg);
  } catch {
    // The transport went away between the check and the write.
  }
}

function safeEnd(call: AnyStream): void {
  if (call.writableEnded || call.destroyed) return;
  try {
    call.end();
  } catch {
    // Already closed.
  }
}
