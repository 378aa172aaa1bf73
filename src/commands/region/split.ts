import { Args, Flags } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { decodeArg, encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { renderTable } from '../../cli/output.js';
import { REGION_HEADER, regionJson, regionRow } from '../../cli/regions.js';

export default class RegionSplit extends PdCommand<typeof RegionSplit> {
  static override description =
    'Split a Region at one or more keys; prints the Regions that cover its old range once the split is applied.';
  static override examples = [
    '<%= config.bin %> region split 4 --key m',
    '<%= config.bin %> region split 4 --key g --key t',
    '<%= config.bin %> region split --key user:500',
    '<%= config.bin %> region split --hex --key 0x6d00 --json',
  ];
  static override args = {
    id: Args.integer({
      ignoreStdin: true,
      description: 'Region id (default: the Region holding the first --key)',
      required: false,
    }),
  };
  static override flags = {
    ...encodingFlags,
    key: Flags.string({
      description: 'split key: the first key of a new Region (repeat for several)',
      multiple: true,
      required: true,
    }),
  };

  async run(): Promise<void> {
    // --key here is a repeatable data key that replaces the base flags' TLS --key (the
    // TLS key then comes from NYX_KEY, as for `region show`); the two flag types do not
    // intersect, so the parsed flags are typed here.
    const flags = this.flags as unknown as { key: string[]; hex?: boolean; base64?: boolean };
    const enc = encodingOf(flags);
    const { id } = this.args;
    const keys = flags.key.map((k) => decodeArg(k, enc, 'key'));
    if (keys.some((k) => k.length === 0)) this.fail('a split key may not be empty');
    // PD answers once its map shows the halves; leave it most of --timeout for that.
    const regions = await this.pd().splitRegions(
      id ?? 0,
      keys,
      Math.max(500, this.budgetMs() - 300),
    );
    this.output(
      regions.map((r) => regionJson(r, enc)),
      () =>
        renderTable(
          REGION_HEADER,
          regions.map((r) => regionRow(r, enc)),
        ),
    );
  }
}
