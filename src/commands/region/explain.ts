import { Args } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { explanationJson, renderExplanation } from '../../cli/explain.js';

export default class RegionExplain extends PdCommand<typeof RegionExplain> {
  static override description =
    'Why PD does or does not act on a Region now: the replica checker and every scheduler ' +
    'give their verdict (what they looked at, the scores, the limit or state that holds ' +
    'them back), with the operator running on it, if any. The same code decides and explains.';
  static override examples = [
    '<%= config.bin %> region explain 4',
    '<%= config.bin %> region explain 4 --json',
  ];
  static override args = {
    id: Args.integer({ description: 'Region id', required: true, min: 1 }),
  };
  static override flags = { ...encodingFlags };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const e = await this.pd().explainRegion(this.args.id);
    this.output(explanationJson(e, enc), () => renderExplanation(e, enc));
  }
}
