import { PdCommand } from '../../cli/base_command.js';
import { renderTable } from '../../cli/output.js';

export default class StoreList extends PdCommand<typeof StoreList> {
  static override description =
    'List the stores PD knows: addresses, state, last heartbeat, Regions and leaders.';
  static override examples = [
    '<%= config.bin %> store list',
    '<%= config.bin %> store list --json',
  ];

  async run(): Promise<void> {
    const pd = this.pd();
    const stores = await pd.getAllStores();
    const infos = await Promise.all(stores.map((s) => pd.getStoreInfo(s.id)));
    const rows = stores.map((s, i) => {
      const stats = infos[i]?.stats;
      return {
        id: s.id,
        address: s.address,
        statusAddress: s.statusAddress,
        state: s.state,
        lastHeartbeat: s.lastHeartbeatMs ? new Date(s.lastHeartbeatMs).toISOString() : null,
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
          r.lastHeartbeat ?? 'never',
          r.regions,
          r.leaders,
        ]),
      ),
    );
  }
}
