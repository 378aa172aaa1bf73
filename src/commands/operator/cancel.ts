import { Args } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { operatorDetails } from '../../cli/operators.js';

export default class OperatorCancel extends PdCommand<typeof OperatorCancel> {
  static override description =
    "Cancel a Region's running operator (steps already taken stay taken).";
  static override examples = ['<%= config.bin %> operator cancel 4'];
  static override args = {
    region: Args.integer({ ignoreStdin: true, description: 'Region id', required: true }),
  };

  async run(): Promise<void> {
    const op = await this.pd().cancelOperator(this.args.region);
    this.output(op, () => operatorDetails(op));
  }
}
