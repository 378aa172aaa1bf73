import { Args } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { schedulerJson, schedulerState } from '../../cli/schedulers.js';

export default class SchedulerResume extends PdCommand<typeof SchedulerResume> {
  static override description = 'Resume a paused scheduler now.';
  static override examples = ['<%= config.bin %> scheduler resume balance-region'];
  static override args = {
    name: Args.string({ description: 'balance-leader or balance-region', required: true }),
  };

  async run(): Promise<void> {
    const s = await this.pd().changeScheduler(this.args.name, 'resume');
    this.output(schedulerJson(s), () => `${s.name}: ${schedulerState(s)}`);
  }
}
