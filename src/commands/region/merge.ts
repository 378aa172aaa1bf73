import { Args } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { renderTable } from '../../cli/output.js';
import { REGION_HEADER, regionJson, regionRow } from '../../cli/regions.js';

export default class RegionMerge extends PdCommand<typeof RegionMerge> {
  static override description =
    'Merge a Region into its neighbour (both with peers on the same stores); returns once the merge is applied and prints the merged Region.';
  static override examples = [
    '<%= config.bin %> region merge 12 4',
    '<%= config.bin %> region merge 12 4 --json',
  ];
  static override args = {
    source: Args.integer({
      ignoreStdin: true,
      description: 'the Region that goes away (its keys join the target)',
      required: true,
    }),
    target: Args.integer({
      ignoreStdin: true,
      description: 'the adjacent Region that takes the keys',
      required: true,
    }),
  };

  async run(): Promise<void> {
    const { source, target } = this.args;
    if (source === target) this.fail('a Region cannot merge into itself');
    // PD answers once its map shows the merge; leave it most of --timeout for that.
    const info = await this.pd().mergeRegions(source, target, Math.max(500, this.budgetMs() - 300));
    this.output(regionJson(info, 'text'), () =>
      renderTable(REGION_HEADER, [regionRow(info, 'text')]),
    );
  }
}
