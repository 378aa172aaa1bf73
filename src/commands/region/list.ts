import { Flags } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { decodeArg, encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
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
    ...encodingFlags,
    start: Flags.string({ description: 'first key to cover', default: '' }),
    end: Flags.string({ description: 'end key (exclusive)', default: '' }),
    limit: Flags.integer({ description: 'at most this many Regions (0: all)', default: 0, min: 0 }),
  };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const regions = await this.pd().scanRegions(
      decodeArg(this.flags.start, enc, 'start key'),
      decodeArg(this.flags.end, enc, 'end key'),
      this.flags.limit,
    );
    this.output(
      regions.map((r) => regionJson(r, enc)),
      () =>
        renderTable(
          REGION_HEADER,
          regions.map((r) => regionRow(r, enc)),
        ) + `\n${regions.length} regions`,
    );
  }
}
