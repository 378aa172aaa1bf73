import { Args } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { schedulerJson, schedulerState } from '../../cli/schedulers.js';

export default class SchedulerRemove extends PdCommand<typeof SchedulerRemove> {
  static override description =
    'Remove a scheduler: PD stops running it (persisted; operators it started finish).';
  static override examples = ['<%= config.bin %> scheduler remove balance-region'];
  static override args = {
    name: Args.string({ description: 'balance-leader or balance-region', required: true }),
  };

  async run(): Promise<void> {
    const s = await this.pd().changeScheduler(this.args.name, 'remove');
    this.output(schedulerJson(s), () => `${s.name}: ${schedulerState(s)}`);
  }
}
