import { Args, Flags } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { renderTable } from '../../cli/output.js';
import { REGION_HEADER, regionJson, regionRow } from '../../cli/regions.js';

export default class RegionTransferLeader extends PdCommand<typeof RegionTransferLeader> {
  static override description =
    "Move a Region's leadership to its voter on a store; waits until PD sees the new leader and prints the Region.";
  static override examples = ['<%= config.bin %> region transfer-leader 4 --to-store 2'];
  static override args = {
    id: Args.integer({ ignoreStdin: true, description: 'Region id', required: true }),
  };
  static override flags = {
    'to-store': Flags.integer({ description: 'the store whose voter should lead', required: true }),
  };

  async run(): Promise<void> {
    const pd = this.pd();
    const id = this.args.id;
    const to = this.flags['to-store'];
    const deadline = Date.now() + Math.max(500, this.budgetMs() - 300);
    const op = await pd.addOperator(id, 'transfer-leader', [to]);
    for (;;) {
      const now = await pd.getOperator(id);
      const info = await pd.getRegionById(id);
      if (now && now.id === op.id && now.status !== 'running' && now.status !== 'finished')
        this.fail(`transfer of region ${id} to store ${to} ended ${now.status}`);
      if (info?.leader?.storeId === to) {
        this.output(regionJson(info, 'text'), () =>
          renderTable(REGION_HEADER, [regionRow(info, 'text')]),
        );
        return;
      }
      if (Date.now() >= deadline) {
        await pd.cancelOperator(id).catch(() => undefined);
        this.fail(
          `region ${id}: leadership did not reach store ${to} in time (operator cancelled)`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
