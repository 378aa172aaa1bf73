import { Args } from '@oclif/core';
import { PdCommand } from '../../../cli/base_command.js';
import { operatorDetails } from '../../../cli/operators.js';

export default class OperatorAddAddLearner extends PdCommand<typeof OperatorAddAddLearner> {
  static override description = 'Add a learner (a non-voting replica) of a Region on a store.';
  static override examples = ['<%= config.bin %> operator add add-learner 4 5'];
  static override args = {
    region: Args.integer({ ignoreStdin: true, description: 'Region id', required: true }),
    store: Args.integer({ ignoreStdin: true, description: 'store id', required: true }),
  };

  async run(): Promise<void> {
    const op = await this.pd().addOperator(this.args.region, 'add-learner', [this.args.store]);
    this.output(op, () => operatorDetails(op));
  }
}
