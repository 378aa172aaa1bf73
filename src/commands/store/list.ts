import { PdCommand } from '../../cli/base_command.js';
import { renderTable } from '../../cli/output.js';

export default class StoreList extends PdCommand<typeof StoreList> {
  static override description =
    'List the stores PD knows: addresses, state (Up, Disconnected, Down, Offline, Tombstone), ' +
    'age of the last heartbeat, Regions and leaders.';
  static override examples = [
    '<%= config.bin %> store list',
    '<%= config.bin %> store list --json',
  ];

  async run(): Promise<void> {
    const pd = this.pd();
    const stores = await pd.getAllStores();
    const infos = await Promise.all(stores.map((s) => pd.getStoreInfo(s.id)));
    const rows = stores.map((s, i) => {
      const info = infos[i];
      const stats = info?.stats;
      return {
        id: s.id,
        address: s.address,
        statusAddress: s.statusAddress,
        // PD's judgement from heartbeats and its settings; the bare record from an older PD.
        state: info?.liveness ?? s.state,
        lastHeartbeat: s.lastHeartbeatMs ? new Date(s.lastHeartbeatMs).toISOString() : null,
        heartbeatAgeMs: info?.heartbeatAgeMs ?? null,
        regions: stats?.regionCount ?? null,
        leaders: stats?.leaderCount ?? null,
      };
    });
    this.output(rows, () =>
      renderTable(
        ['id', 'address', 'status', 'state', 'last heartbeat', 'regions', 'leaders'],
        rows.map((r) => [
          r.id,
          r.address,
          r.statusAddress,
          r.state,
          r.heartbeatAgeMs === null ? 'never' : `${formatAge(r.heartbeatAgeMs)} ago`,
          r.regions,
          r.leaders,
        ]),
      ),
    );
  }
}

/** "0.4s", "42s", "12m5s", "3h2m": short enough for a table cell. */
function formatAge(ms: number): string {
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
}
