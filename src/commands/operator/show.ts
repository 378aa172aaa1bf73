import { Args } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { operatorDetails } from '../../cli/operators.js';

export default class OperatorShow extends PdCommand<typeof OperatorShow> {
  static override description = "Show a Region's running operator, or the last one that ended.";
  static override examples = ['<%= config.bin %> operator show 4'];
  static override args = {
    region: Args.integer({ ignoreStdin: true, description: 'Region id', required: true }),
  };

  async run(): Promise<void> {
    const op = await this.pd().getOperator(this.args.region);
    if (!op) this.fail(`region ${this.args.region} has no operator`);
    this.output(op, () => operatorDetails(op));
  }
}
