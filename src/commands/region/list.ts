import { Flags } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { parseKey } from '../../cli/keys.js';
import { renderTable } from '../../cli/output.js';
import { REGION_HEADER, regionJson, regionRow } from '../../cli/regions.js';

export default class RegionList extends PdCommand<typeof RegionList> {
  static override description =
    'List Regions in key order, with their epochs, peers and leaders (as PD knows them).';
  static override examples = [
    '<%= config.bin %> region list',
    '<%= config.bin %> region list --start user --limit 10 --json',
  ];
  static override flags = {
    start: Flags.string({ description: 'first key to cover', default: '' }),
    end: Flags.string({ description: 'end key (exclusive)', default: '' }),
    limit: Flags.integer({ description: 'at most this many Regions (0: all)', default: 0, min: 0 }),
  };

  async run(): Promise<void> {
    const regions = await this.pd().scanRegions(
      parseKey(this.flags.start),
      parseKey(this.flags.end),
      this.flags.limit,
    );
    this.output(
      regions.map(regionJson),
      () => renderTable(REGION_HEADER, regions.map(regionRow)) + `\n${regions.length} regions`,
    );
  }
}
