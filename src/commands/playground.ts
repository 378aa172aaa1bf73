import { Flags } from '@oclif/core';
import { checkAddress } from '../cli/addresses.js';
import { BaseCommand } from '../cli/base_command.js';
import { MAX_PLAYGROUND_REGIONS, Playground, type ChildDeath } from '../server/playground.js';
import { STORE_DEFAULT_TICK_MS } from '../server/playground_tick.js';

export default class PlaygroundCommand extends BaseCommand<typeof PlaygroundCommand> {
  static override description =
    'Start a local cluster — one PD and N stores as child processes — and keep it running until Ctrl-C';

  static override examples = [
    '<%= config.bin %> playground',
    '<%= config.bin %> playground --stores 5 --regions 8 --clean',
  ];

  static override flags = {
    'data-dir': Flags.string({
      description: 'where the cluster keeps its data and logs',
      default: './nyx-playground',
    }),
    stores: Flags.integer({ description: 'number of stores', default: 3, min: 1, max: 20 }),
    regions: Flags.integer({
      description:
        'initial Regions (first run only): up to 75 cut at readable characters 0..z, more as even binary slices',
      default: 4,
      min: 1,
      max: MAX_PLAYGROUND_REGIONS,
    }),
    host: Flags.string({
      description: 'address every process listens on',
      default: '127.0.0.1',
      parse: async (host) => {
        checkAddress(host.includes(':') ? `[${host}]:1` : `${host}:1`, 'dial');
        return host;
      },
    }),
    'pd-port': Flags.integer({
      description: 'PD gRPC port (status: pd-port - 1)',
      default: 2379,
      min: 2,
      max: 65535,
    }),
    'store-port': Flags.integer({
      description: 'first store gRPC port',
      default: 20160,
      min: 1,
      max: 65535,
    }),
    'store-status-port': Flags.integer({
      description: 'first store HTTP status port',
      default: 20180,
      min: 1,
      max: 65535,
    }),
    clean: Flags.boolean({
      description: 'delete the data dir first and start afresh',
      default: false,
    }),
    tls: Flags.boolean({
      description:
        'mutual TLS on every port, with a throw-away CA and certificates in <data-dir>/tls/',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const flags = this.flags;
    for (const name of ['store-port', 'store-status-port'] as const) {
      const last = flags[name] + flags.stores - 1;
      if (last > 65535)
        this.fail(`--${name} ${flags[name]} with ${flags.stores} stores runs past port 65535`);
    }
    const pg = new Playground({
      dataDir: flags['data-dir'],
      stores: flags.stores,
      regions: flags.regions,
      host: flags.host,
      pdPort: flags['pd-port'],
      pdStatusPort: flags['pd-port'] - 1,
      storePort: flags['store-port'],
      storeStatusPort: flags['store-status-port'],
      clean: flags.clean,
      // At once, on the console (stderr, whatever --json says): which child, how it
      // ended, where its log is. The others keep running.
      onChildExit: (d) => process.stderr.write(describeDeath(d) + '\n'),
      tls: flags.tls,
    });
    const stop = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    if (!this.json)
      this.log(`Starting PD and ${flags.stores} stores under ${flags['data-dir']} ...`);
    try {
      await pg.start();
    } catch (e) {
      this.fail((e as Error).message);
    }
    const endpoints = pg.processes.map((p) => ({
      name: p.name,
      ...(p.storeId !== undefined ? { storeId: p.storeId } : {}),
      pid: p.child.pid,
      grpc: p.grpc,
      status: p.status,
      log: p.logFile,
    }));
    // What Prometheus should scrape (deploy/prometheus/prometheus.yml has the same shape).
    const scrapeTargets = {
      'nyx-pd': endpoints.filter((p) => p.name === 'pd').map((p) => p.status),
      'nyx-store': endpoints.filter((p) => p.name !== 'pd').map((p) => p.status),
    };
    const c = pg.certs?.client;
    const tls = c && pg.certs ? { ca: pg.certs.ca, cert: c.cert, key: c.key } : undefined;
    const tlsHint = tls
      ? [
          'TLS is on. Clients need (flags or env):',
          `  --ca ${tls.ca} --cert ${tls.cert} --key ${tls.key}`,
          `  export NYX_CA=${tls.ca} NYX_CERT=${tls.cert} NYX_KEY=${tls.key}`,
          '',
        ]
      : [];
    const scheme = tls ? 'https' : 'http';
    const out = {
      pd: pg.pdEndpoint,
      dataDir: flags['data-dir'],
      processes: endpoints,
      scrapeTargets,
      ...(pg.tickMs !== undefined ? { raftTickMs: pg.tickMs } : {}),
      ...(tls ? { tls } : {}),
    };
    this.output(out, () =>
      [
        'NyxDB playground is up:',
        ...endpoints.map(
          (p) =>
            `  ${p.name.padEnd(8)} ${(p.storeId !== undefined ? `id ${p.storeId}` : '').padEnd(6)}` +
            ` grpc ${p.grpc.padEnd(22)} status ${scheme}://${p.status}`,
        ),
        '',
        ...tlsHint,
        `Try:  npx nyx kv put hello world --pd ${pg.pdEndpoint}`,
        `      npx nyx kv get hello --pd ${pg.pdEndpoint}`,
        `      npx nyx region list --pd ${pg.pdEndpoint}`,
        `Logs: ${flags['data-dir']}/logs/   Ctrl-C stops every process.`,
        ...(pg.tickMs !== undefined && pg.tickMs !== STORE_DEFAULT_TICK_MS
          ? [`Raft tick: ${pg.tickMs} ms (many Regions: see the README's Many Regions)`]
          : []),
        `Prometheus targets (/metrics): nyx-pd ${scrapeTargets['nyx-pd'].join(', ')}; ` +
          `nyx-store ${scrapeTargets['nyx-store'].join(', ')} (see deploy/)`,
      ].join('\n'),
    );
    await stop;
    if (!this.json) this.log('Stopping ...');
    await pg.stop();
    if (!this.json) this.log('Stopped.');
    // A playground that lost a child did not do its job: say so in the exit code.
    if (pg.deaths.length > 0) {
      this.fail(
        `${pg.deaths.length} process(es) died while the playground ran: ` +
          pg.deaths.map((d) => `${label(d)} (${how(d)})`).join(', '),
      );
    }
  }
}

function label(d: ChildDeath): string {
  return d.storeId !== undefined && d.name !== `store${d.storeId}`
    ? `${d.name} (store ${d.storeId})`
    : d.name;
}

function how(d: ChildDeath): string {
  return d.signal ? `killed by ${d.signal}` : `exit code ${d.code}`;
}

export function describeDeath(d: ChildDeath): string {
  return `${label(d)} died: ${how(d)}; its log: ${d.logFile}. The other processes keep running.`;
}
