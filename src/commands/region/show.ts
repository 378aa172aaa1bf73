import { Args, Flags } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { decodeArg, encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { renderTable } from '../../cli/output.js';
import { REGION_HEADER, regionJson, regionRow } from '../../cli/regions.js';

export default class RegionShow extends PdCommand<typeof RegionShow> {
  static override description =
    'Show one Region, by id or by a key it holds, with the peers its leader reports down ' +
    '(not heard from for max-peer-down-duration) or pending (needing a snapshot).';
  static override examples = [
    '<%= config.bin %> region show 4',
    '<%= config.bin %> region show --key hello',
  ];
  static override args = {
    id: Args.integer({
      ignoreStdin: true,
      description: 'Region id',
      required: false,
    }),
  };
  static override flags = {
    ...encodingFlags,
    key: Flags.string({ description: 'the Region holding this key' }),
  };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const { id } = this.args;
    const key = this.flags.key;
    if ((id === undefined) === (key === undefined))
      this.fail('give a Region id or --key <key> (one of them)');
    const info =
      id !== undefined
        ? await this.pd().getRegionById(id)
        : await this.pd().getRegion(decodeArg(key!, enc, 'key'));
    if (!info)
      this.fail(id !== undefined ? `region ${id} not found` : `no region holds key ${key}`);
    // The peers column marks what the leader last reported: "(down 42s)", "(pending)".
    this.output(regionJson(info, enc, true), () =>
      renderTable(REGION_HEADER, [regionRow(info, enc)]),
    );
  }
}
