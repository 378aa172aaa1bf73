import { parseSize } from '../../common/size.js';
import { DEFAULT_DISK_RESERVE } from '../../store/disk_usage.js';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base_command.js';
import { armFailpoints, failpointFlags } from '../../cli/failpoint_flags.js';
import { addressFlag, pdFlag, pdWaitFlag } from '../../cli/flags.js';
import { plaintextWarning, tlsFlags, tlsFromFlags } from '../../cli/tls_flags.js';
import type { TlsFiles } from '../../common/tls.js';
import { waitForPd, type WaitForPdOptions } from '../../cli/wait_for_pd.js';
import { PdClient } from '../../client/pd_client.js';
import { TxnClient } from '../../client/txn/txn_client.js';
import { createLogger } from '../../common/logger.js';
import { logFlags, logOptions } from '../../cli/log_flags.js';
import { watchParent } from '../../server/parent_watch.js';
import { routeGrpcLogs } from '../../server/grpc_logs.js';
import { waitForShutdownSignal } from '../../server/signals.js';
import { StorePdAdapter } from '../../server/store_pd.js';
import {
  DEFAULT_PD_WORKER_CONFIG,
  DEFAULT_PEER_CONFIG,
  StoreServer,
} from '../../server/store_server.js';

export default class StoreStart extends BaseCommand<typeof StoreStart> {
  static override description =
    'Start a store: hosts Region replicas, serves RawKV, registers with PD';

  static override examples = [
    '<%= config.bin %> store start --pd 127.0.0.1:2379 --data-dir ./nyx-data/store1',
    '<%= config.bin %> store start --addr 0.0.0.0:20160 --advertise-addr 10.0.0.5:20160',
  ];

  static override flags = {
    ...logFlags,
    pd: pdFlag,
    'pd-timeout': pdWaitFlag,
    'data-dir': Flags.string({
      description: 'where the store keeps its data',
      default: './nyx-data/store',
    }),
    addr: addressFlag({
      description: 'gRPC listen address (port 0: any free port)',
      default: '127.0.0.1:20160',
      use: 'listen',
    }),
    'advertise-addr': addressFlag({
      description: 'gRPC address other stores and clients use',
      use: 'dial',
    }),
    'status-addr': addressFlag({
      description: 'HTTP status listen address',
      default: '127.0.0.1:20180',
      use: 'listen',
    }),
    'advertise-status-addr': addressFlag({
      description: 'HTTP status address PD shows',
      use: 'dial',
    }),
    'tick-ms': Flags.integer({
      description: 'Raft tick interval',
      default: DEFAULT_PEER_CONFIG.tickMs,
      min: 1,
    }),
    'election-ticks': Flags.integer({
      description: 'ticks without a leader before an election',
      default: 10,
      min: 3,
    }),
    'raft-log-gc-threshold': Flags.integer({
      description: 'compact a Region log holding more applied entries than this',
      default: DEFAULT_PD_WORKER_CONFIG.raftLogGcThreshold,
      min: 0,
    }),
    'raft-log-gc-interval-ms': Flags.integer({
      description: 'how often to look for logs to compact',
      default: DEFAULT_PD_WORKER_CONFIG.raftLogGcIntervalMs,
      min: 10,
    }),
    'max-open-regions': Flags.integer({
      description: 'Region databases kept open at once',
      default: 256,
      min: 1,
    }),
    'reserve-space': Flags.string({
      description:
        'free disk space to keep: below it writes are refused with DiskFull (at most 10% of the disk is reserved)',
      default: '2GiB',
      parse: async (v) => String(parseSize(v)),
    }),
    'txn-idle-ttl': Flags.integer({
      description: 'ms after which an idle `nyx txn begin` transaction is rolled back',
      default: 60_000,
      min: 1,
    }),
    'max-held-txns': Flags.integer({
      description: '`nyx txn begin` transactions this store holds at most',
      default: 1024,
      min: 1,
    }),
    'split-check-interval-ms': Flags.integer({
      description:
        'how often the split checker measures the Regions this store leads (thresholds: nyx pd config)',
      default: 10_000,
      min: 10,
    }),
    'hibernate-regions': Flags.boolean({
      description:
        'let idle Regions stop ticking (their leader and every follower caught up); any request or message wakes them',
      default: true,
      allowNo: true,
    }),
    'lock-files': Flags.boolean({
      description:
        "hold the SQLite files' locks while running and commit applies in groups (faster writes); --no-lock-files lets other programs (sqlite3) read a running store's files, every apply as it happens",
      default: true,
      allowNo: true,
    }),
    ...failpointFlags,
    ...tlsFlags,
  };

  async run(): Promise<void> {
    const flags = this.flags;
    const logger = createLogger('store', {}, logOptions(this.flags));
    // Under `nyx playground`: stop when the playground is gone, even after a kill -9.
    watchParent((parent) => logger.warn({ parent }, 'parent process gone: shutting down'));
    try {
      armFailpoints(flags, logger);
    } catch (e) {
      this.fail((e as Error).message);
    }
    // grpc-js's own lines ("No address added out of total 1 resolved") go to the log, so
    // a port in use shows as the one error line below and nothing before it.
    routeGrpcLogs(logger);
    let tls: TlsFiles | undefined;
    try {
      tls = tlsFromFlags(flags, (msg) => logger.info({}, msg));
    } catch (e) {
      this.fail((e as Error).message);
    }
    const warning = plaintextWarning(tls, [flags.addr, flags['status-addr']]);
    if (warning) {
      logger.warn({}, warning);
      process.stderr.write(warning + '\n');
    }
    const credentials = tls?.channelCredentials();
    const pd = PdClient.connect(flags.pd.split(','), {
      timeoutMs: 30_000,
      ...(credentials ? { credentials } : {}),
    });
    const waiting: WaitForPdOptions = {
      ...(credentials ? { credentials } : {}),
      timeoutMs: flags['pd-timeout'],
      // A person waits on the console: the line goes to stderr as words. The log gets it
      // too when it is a file; on stderr it would say the same thing twice.
      report: (line) => {
        if (flags['log-file']) logger.warn({ pd: flags.pd }, line);
        process.stderr.write(line + '\n');
      },
    };
    const server = new StoreServer(
      {
        dataDir: flags['data-dir'],
        addr: flags.addr,
        ...(flags['advertise-addr'] ? { advertiseAddr: flags['advertise-addr'] } : {}),
        statusAddr: flags['status-addr'],
        ...(flags['advertise-status-addr']
          ? { advertiseStatusAddr: flags['advertise-status-addr'] }
          : {}),
        peer: {
          ...DEFAULT_PEER_CONFIG,
          storeId: 0,
          tickMs: flags['tick-ms'],
          electionTicks: flags['election-ticks'],
        },
        pdWorker: {
          ...DEFAULT_PD_WORKER_CONFIG,
          raftLogGcThreshold: flags['raft-log-gc-threshold'],
          raftLogGcIntervalMs: flags['raft-log-gc-interval-ms'],
        },
        maxOpenRegionEngines: flags['max-open-regions'],
        lockFiles: flags['lock-files'],
        // parseSize again: oclif does not pass a flag's default through parse, so the
        // default arrives as "2GiB", which Number() made NaN (and the reserve none).
        diskReserve: { ...DEFAULT_DISK_RESERVE, reserveBytes: parseSize(flags['reserve-space']) },
        allowFailpoints: flags['allow-failpoints'],
        txnHost: {
          // Its own PD client: the store's waits for PD in its own way (PdWaitingAdapter).
          client: (storeId) => {
            const txnPd = PdClient.connect(flags.pd.split(','), {
              timeoutMs: 30_000,
              ...(credentials ? { credentials } : {}),
            });
            return new TxnClient(
              txnPd,
              {
                maxTxnBytes: 16 << 20,
                // Held transactions keep the GC safe point below them under this name.
                gcServiceId: `txn-host-store-${storeId}`,
                ...(credentials ? { connection: { credentials } } : {}),
              },
              () => txnPd.close(),
            );
          },
          idleTtlMs: flags['txn-idle-ttl'],
          maxTxns: flags['max-held-txns'],
        },
        tls,
        splitCheck: { intervalMs: flags['split-check-interval-ms'] },
        hibernateRegions: flags['hibernate-regions'],
      },
      new PdWaitingAdapter(pd, this.config.version, flags.pd, waiting),
      logger,
    );
    server.onFatal = () => {
      // The log says why; exit so a supervisor restarts the store from what is durable.
      process.exit(1);
    };
    try {
      await server.start();
    } catch (e) {
      pd.close();
      this.fail((e as Error).message);
    }
    // Listen for the signal before saying ready (see pd start).
    const stopSignal = waitForShutdownSignal();
    this.output(
      {
        store: server.storeId,
        grpc: server.advertiseAddress,
        status: server.advertiseStatusAddress,
      },
      () =>
        `Store ${server.storeId} ready: grpc ${server.advertiseAddress}, status ${tls ? 'https' : 'http'}://${server.advertiseStatusAddress}`,
    );
    await stopSignal;
    await server.stop();
    pd.close();
    tls?.close();
  }
}

/** The store's PD, except that the first call waits for PD in plain sight (wait_for_pd.ts). */
class PdWaitingAdapter extends StorePdAdapter {
  constructor(
    pd: PdClient,
    version: string,
    private readonly endpoints: string,
    private readonly waiting: WaitForPdOptions,
  ) {
    super(pd, version);
  }

  override async getClusterId(): Promise<number> {
    await waitForPd(this.endpoints, this.waiting);
    return super.getClusterId();
  }
}
