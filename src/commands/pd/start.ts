import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base_command.js';
import { armFailpoints, failpointFlags } from '../../cli/failpoint_flags.js';
import { decodeArgList, encodingOf } from '../../cli/encoding.js';
import { addressFlag, encodingFlags } from '../../cli/flags.js';
import type { InitialLayout } from '../../pd/initial_regions.js';
import { DEFAULT_INITIAL_STORES } from '../../pd/cluster.js';
import {
  DEFAULT_PD_ADDR,
  DEFAULT_PD_DATA_DIR,
  DEFAULT_PD_STATUS_ADDR,
  PdServer,
} from '../../server/pd_server.js';
import { waitForShutdownSignal } from '../../server/signals.js';
import { routeGrpcLogs } from '../../server/grpc_logs.js';
import { createLogger } from '../../common/logger.js';
import { logFlags, logOptions } from '../../cli/log_flags.js';
import { watchParent } from '../../server/parent_watch.js';

export default class PdStart extends BaseCommand<typeof PdStart> {
  static override summary = 'Run a Placement Driver (PD) until stopped by SIGINT or SIGTERM';
  static override description = `PD keeps the cluster map, hands out ids and timestamps, and bootstraps the cluster by itself once --initial-stores stores have registered: the key space is cut into the initial Regions (--initial-split-keys, or --initial-regions even slices, or one Region for all keys) with a voter on each of those stores.`;

  static override examples = [
    '<%= config.bin %> pd start',
    '<%= config.bin %> pd start --data-dir /var/lib/nyx/pd --initial-regions 8',
    '<%= config.bin %> pd start --addr 0.0.0.0:2379 --advertise-addr 10.0.0.5:2379 --initial-split-keys g,n,t',
  ];

  static override flags = {
    ...logFlags,
    addr: addressFlag({
      description: 'gRPC listen address',
      default: DEFAULT_PD_ADDR,
      use: 'listen',
    }),
    'advertise-addr': addressFlag({
      description: 'gRPC address stores and clients use (default: the listen address)',
      use: 'dial',
    }),
    'status-addr': addressFlag({
      description: 'HTTP status address (/health, /status, /metrics)',
      default: DEFAULT_PD_STATUS_ADDR,
      use: 'listen',
    }),
    'data-dir': Flags.string({ description: 'where PD keeps pd.db', default: DEFAULT_PD_DATA_DIR }),
    'initial-stores': Flags.integer({
      description: 'bootstrap once this many stores are up',
      default: DEFAULT_INITIAL_STORES,
      min: 1,
    }),
    'initial-regions': Flags.integer({
      description: 'cut the key space into N even slices of the 2-byte key prefix at bootstrap',
      min: 1,
      max: 65536,
      exclusive: ['initial-split-keys'],
    }),
    'initial-split-keys': Flags.string({
      description:
        'split keys of the initial Regions, comma-separated (text; with --hex / --base64 in that encoding)',
      exclusive: ['initial-regions'],
    }),
    ...failpointFlags,
    ...encodingFlags,
  };

  async run(): Promise<void> {
    const f = this.flags;
    const log = createLogger('pd', {}, logOptions(this.flags));
    // Under `nyx playground`: stop when the playground is gone, even after a kill -9.
    watchParent((parent) => log.warn({ parent }, 'parent process gone: shutting down'));
    routeGrpcLogs(log);
    try {
      armFailpoints(f, log);
    } catch (e) {
      this.fail((e as Error).message);
    }
    const server = await PdServer.start({
      logger: log,
      dataDir: f['data-dir'],
      addr: f.addr,
      advertiseAddr: f['advertise-addr'],
      statusAddr: f['status-addr'],
      initialStores: f['initial-stores'],
      initialLayout: this.layout(),
      allowFailpoints: f['allow-failpoints'],
    });
    // Listen for the signal before saying ready: whoever waits for that line may stop us
    // at once, and a signal with no handler yet would kill the process uncleanly.
    const stopSignal = waitForShutdownSignal();
    const ready = {
      event: 'ready',
      clusterId: server.clusterId,
      grpc: server.advertiseAddress,
      status: `http://${server.statusAddress}`,
      dataDir: f['data-dir'],
    };
    if (this.json) process.stdout.write(JSON.stringify(ready) + '\n');
    else process.stdout.write(`PD ready: grpc ${ready.grpc}, status ${ready.status}\n`);

    const signal = await stopSignal;
    server.log.info({ signal }, 'shutting down');
    await server.stop();
  }

  private layout(): InitialLayout | undefined {
    const keys = this.flags['initial-split-keys'];
    if (keys !== undefined) {
      const splitKeys = decodeArgList(keys, encodingOf(this.flags), 'split key');
      if (splitKeys.length === 0) this.fail('--initial-split-keys has no keys');
      return { splitKeys };
    }
    const n = this.flags['initial-regions'];
    return n !== undefined ? { evenSplits: n } : undefined;
  }
}
