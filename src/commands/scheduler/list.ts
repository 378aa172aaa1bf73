import { PdCommand } from '../../cli/base_command.js';
import { renderSchedulers, schedulerJson } from '../../cli/schedulers.js';

export default class SchedulerList extends PdCommand<typeof SchedulerList> {
  static override description =
    'List the schedulers PD knows and whether each is running, paused (until when) or removed. ' +
    'The replica checker is not a scheduler: it always runs.';
  static override examples = [
    '<%= config.bin %> scheduler list',
    '<%= config.bin %> scheduler list --json',
  ];

  async run(): Promise<void> {
    const list = await this.pd().listSchedulers();
    this.output(list.map(schedulerJson), () => renderSchedulers(list));
  }
}
