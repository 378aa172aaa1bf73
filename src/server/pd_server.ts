// A PD process: the PlacementDriver opened on its data directory, the nyx.pd.PD gRPC
// service, the HTTP status server (/health, /status, /metrics) and the TSO tick timer.
// `nyx pd start` and tests start one with PdServer.start() and end it with stop().
import * as grpc from '@grpc/grpc-js';
import { dialableHost, formatHostPort, parseHostPort } from '../common/address.js';
import { DataDirLock } from '../common/data_dir_lock.js';
import { createLogger, type Logger } from '../common/logger.js';
import type { InitialLayout } from '../pd/initial_regions.js';
import { PlacementDriver } from '../pd/placement_driver.js';
import { loadNyxProto } from '../proto/load.js';
import { peerStoreId, type TlsFiles } from '../common/tls.js';
import type { CallerIdentity } from '../pd/identity.js';
import { bindGrpc, listenStatus } from './listen.js';
import { PdMetrics } from './pd_metrics.js';
import { PdService, type PdServiceOptions } from './pd_service.js';
import { pdClusterView } from './pd_cluster_view.js';
import { pdStatus } from './pd_status.js';
import { StatusServer } from './status_server.js';
import { MAX_STREAMS_PER_CONNECTION } from './stream_flow.js';
import { ScheduleCoordinator } from '../pd/schedule/coordinator.js';

export const DEFAULT_PD_ADDR = '127.0.0.1:2379';
export const DEFAULT_PD_STATUS_ADDR = '127.0.0.1:2378';
export const DEFAULT_PD_DATA_DIR = './nyx-data/pd';
/** How often the TSO follows the clock, so its window write is usually off the request path. */
const TSO_TICK_MS = 50;
/** How long shutdown waits for in-flight calls before cutting connections. */
const SHUTDOWN_GRACE_MS = 1000;

export interface PdServerOptions {
  dataDir: string;
  /** gRPC listen address, host:port (port 0: any free port). */
  addr?: string;
  /** The gRPC address stores and clients should use; default: the bound address. */
  advertiseAddr?: string;
  /** HTTP status listen address, host:port. */
  statusAddr?: string;
  /** Bootstrap automatically once this many stores are Up. */
  initialStores?: number;
  /** How automatic bootstrap cuts the key space; default one Region for all keys. */
  initialLayout?: InitialLayout;
  /** Used only for a new data directory. */
  clusterId?: number;
  logger?: Logger;
  /** The authenticated store behind a call; mutual TLS fills it, plaintext leaves it out. */
  identityOf?: PdServiceOptions['identityOf'];
  /** Timestamps one Tso stream may draw per second (default DEFAULT_TSO_STREAM_RATE). */
  tsoStreamRate?: number;
  /** How far load may step the TSO ahead of the wall clock (ms, default 50). */
  tsoMaxAheadMs?: number;
  /** Let the status port set failpoints at run time (--allow-failpoints). */
  allowFailpoints?: boolean;
  /** Mutual TLS on the gRPC and status ports; callers are known by their certificates. */
  tls?: TlsFiles;
}

/**
 * With mutual TLS every caller has a verified certificate: a store's names its id, and
 * anything else (a client) is identity 0, which may read but not act for any store.
 */
function tlsIdentity(call: Parameters<typeof peerStoreId>[0]): CallerIdentity | undefined {
  const id = peerStoreId(call);
  return id === undefined ? undefined : { storeId: id };
}

export class PdServer {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly pd: PlacementDriver,
    private readonly grpcServer: grpc.Server,
    private readonly service: PdService,
    private readonly status: StatusServer,
    private readonly tsoTimer: NodeJS.Timeout,
    readonly log: Logger,
    /** The bound gRPC address (real port). */
    readonly grpcAddress: string,
    readonly advertiseAddress: string,
    /** The bound HTTP status address (real port). */
    readonly statusAddress: string,
    private readonly lock: DataDirLock,
  ) {}

  private livenessTimer: NodeJS.Timeout | undefined;
  private scheduling: ScheduleCoordinator | undefined;

  static async start(opts: PdServerOptions): Promise<PdServer> {
    const log = opts.logger ?? createLogger('pd');
    const listen = parseHostPort(opts.addr ?? DEFAULT_PD_ADDR);
    const statusListen = parseHostPort(opts.statusAddr ?? DEFAULT_PD_STATUS_ADDR);
    // Before the database is opened: a second PD on this dir must not touch pd.db.
    const lock = DataDirLock.acquire(opts.dataDir);
    let pd: PlacementDriver;
    try {
      pd = PlacementDriver.open({
        dataDir: opts.dataDir,
        initialStores: opts.initialStores,
        initialLayout: opts.initialLayout,
        clusterId: opts.clusterId,
        tsoMaxAheadMs: opts.tsoMaxAheadMs,
      });
    } catch (e) {
      lock.release();
      throw e;
    }
    const cleanup: (() => Promise<void> | void)[] = [() => pd.close(), () => lock.release()];
    try {
      const metrics = new PdMetrics(pd.cluster, (s) => pd.liveness.stateOf(s, pd.now()));
      // Scheduling decides (src/pd/schedule/); the operator controller carries operators
      // out through the Regions' leaders.
      const scheduling = new ScheduleCoordinator(pd, pd.operators, log);
      scheduling.start();
      cleanup.unshift(() => scheduling.stop());
      const service = new PdService(pd, {
        scheduling,
        logger: log,
        metrics,
        identityOf: opts.identityOf ?? (opts.tls ? tlsIdentity : undefined),
        tsoStreamRate: opts.tsoStreamRate,
      });
      // Calls in flight per client connection, as on the stores.
      const grpcServer = new grpc.Server({
        'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION,
      });
      grpcServer.addService(loadNyxProto().nyx.pd.PD.service, service.handlers);
      const port = await bindGrpc(
        grpcServer,
        formatHostPort(listen),
        opts.tls?.serverCredentials(),
      );
      cleanup.unshift(() => void grpcServer.forceShutdown());
      const grpcAddress = formatHostPort({ host: dialableHost(listen.host), port });

      // The status page shows its own address, known only once it is bound.
      const state = { advertise: opts.advertiseAddr || grpcAddress, statusAddress: '' };
      const status = new StatusServer(
        metrics.registry,
        {
          healthy: () => true,
          status: () => pdStatus(pd, state.advertise, state.statusAddress),
          pages: { '/cluster': () => pdClusterView(pd) },
        },
        { allowFailpoints: opts.allowFailpoints === true, tls: opts.tls },
      );
      const statusPort = await listenStatus(status, statusListen.host, statusListen.port);
      cleanup.unshift(() => status.close());
      const statusAddress = formatHostPort({
        host: dialableHost(statusListen.host),
        port: statusPort,
      });
      state.statusAddress = statusAddress;

      const tsoTimer = setInterval(() => {
        try {
          pd.tso.tick();
        } catch (e) {
          log.error({ err: e }, 'TSO tick failed');
        }
      }, TSO_TICK_MS);
      tsoTimer.unref();
      // Store liveness is judged on read; this timer only tells the log and the metrics
      // when a store changes state, within a second.
      const livenessTimer = setInterval(
        () => reportLivenessChanges(pd, metrics, log),
        LIVENESS_CHECK_MS,
      );
      livenessTimer.unref();
      cleanup.unshift(() => clearInterval(livenessTimer));
      reportLivenessChanges(pd, metrics, log);

      log.info(
        {
          clusterId: pd.clusterId,
          grpc: grpcAddress,
          advertise: state.advertise,
          status: statusAddress,
          dataDir: opts.dataDir,
          bootstrapped: pd.cluster.isBootstrapped(),
          initialStores: pd.cluster.initialStores,
        },
        'PD started',
      );
      const server = new PdServer(
        pd,
        grpcServer,
        service,
        status,
        tsoTimer,
        log,
        grpcAddress,
        state.advertise,
        statusAddress,
        lock,
      );
      server.livenessTimer = livenessTimer;
      server.scheduling = scheduling;
      return server;
    } catch (e) {
      for (const c of cleanup) await c();
      throw e;
    }
  }

  get clusterId(): number {
    return this.pd.clusterId;
  }

  /**
   * Stops serving and closes the database. Streams are ended first so clients see a
   * clean end; in-flight unary calls get a short grace period. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    clearInterval(this.tsoTimer);
    clearInterval(this.livenessTimer);
    this.scheduling?.stop();
    this.service.endStreams();
    await shutdownGrpc(this.grpcServer, SHUTDOWN_GRACE_MS);
    await this.status.close();
    this.pd.close();
    this.lock.release();
    this.log.info({ clusterId: this.pd.clusterId }, 'PD stopped');
  }
}

/** How often PD looks for stores whose liveness changed (to log and count it). */
const LIVENESS_CHECK_MS = 1000;

function reportLivenessChanges(pd: PlacementDriver, metrics: PdMetrics, log: Logger): void {
  for (const ch of pd.liveness.check(pd.cluster.getAllStores(), pd.now())) {
    metrics.storeStateChanges.inc({ to: ch.to });
    const fields = {
      store: ch.storeId,
      from: ch.from,
      to: ch.to,
      heartbeatAgeMs: ch.heartbeatAgeMs,
    };
    if (ch.to === 'Disconnected' || ch.to === 'Down')
      log.warn(fields, `store ${ch.storeId} is ${ch.to}`);
    else log.info(fields, `store ${ch.storeId} is ${ch.to}`);
  }
}

function shutdownGrpc(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
