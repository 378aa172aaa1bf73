import { Args, Flags } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { parseKey } from '../../cli/keys.js';
import { renderTable } from '../../cli/output.js';
import { REGION_HEADER, regionJson, regionRow } from '../../cli/regions.js';

export default class RegionShow extends PdCommand<typeof RegionShow> {
  static override description = 'Show one Region, by id or by a key it holds.';
  static override examples = [
    '<%= config.bin %> region show 4',
    '<%= config.bin %> region show --key hello',
  ];
  static override args = { id: Args.integer({ description: 'Region id', required: false }) };
  static override flags = { key: Flags.string({ description: 'the Region holding this key' }) };

  async run(): Promise<void> {
    const { id } = this.args;
    const key = this.flags.key;
    if ((id === undefined) === (key === undefined))
      this.fail('give a Region id or --key <key> (one of them)');
    const info =
      id !== undefined
        ? await this.pd().getRegionById(id)
        : await this.pd().getRegion(parseKey(key!));
    if (!info)
      this.fail(id !== undefined ? `region ${id} not found` : `no region holds key ${key}`);
    this.output(regionJson(info), () => renderTable(REGION_HEADER, [regionRow(info)]));
  }
}
