import { Args } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { schedulerJson, schedulerState } from '../../cli/schedulers.js';
import { parseDuration } from '../../pd/config/duration.js';

export default class SchedulerPause extends PdCommand<typeof SchedulerPause> {
  static override description =
    'Pause a scheduler for a while (e.g. during maintenance); it resumes by itself afterwards, ' +
    'also across a PD restart. Durations as 30s, 10m, 1h30m.';
  static override examples = ['<%= config.bin %> scheduler pause balance-region 10m'];
  static override args = {
    name: Args.string({ description: 'balance-leader or balance-region', required: true }),
    duration: Args.string({ description: 'how long, e.g. 10m', required: true }),
  };

  async run(): Promise<void> {
    let ms: number;
    try {
      ms = parseDuration(this.args.duration);
    } catch (e) {
      this.fail((e as Error).message);
    }
    const s = await this.pd().changeScheduler(this.args.name, 'pause', ms);
    this.output(schedulerJson(s), () => `${s.name}: ${schedulerState(s)}`);
  }
}
