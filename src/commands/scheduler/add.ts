import { Args } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { schedulerJson, schedulerState } from '../../cli/schedulers.js';

export default class SchedulerAdd extends PdCommand<typeof SchedulerAdd> {
  static override description =
    'Add a scheduler: PD runs it every schedule-interval from now on (persisted).';
  static override examples = ['<%= config.bin %> scheduler add balance-region'];
  static override args = {
    name: Args.string({ description: 'balance-leader or balance-region', required: true }),
  };

  async run(): Promise<void> {
    const s = await this.pd().changeScheduler(this.args.name, 'add');
    this.output(schedulerJson(s), () => `${s.name}: ${schedulerState(s)}`);
  }
}
