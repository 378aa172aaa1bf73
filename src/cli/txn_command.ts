// Base of the `nyx txn` commands: a TxnClient (exec runs a whole transaction in this
// process) or a TxnHostClient (begin and --txn calls act on a transaction a store holds),
// both within the command's --timeout, and one error line for transaction failures.
import { Command } from '@oclif/core';
import { createTxnClient } from '../client/create_client.js';
import type { TxnClient } from '../client/txn/txn_client.js';
import { TxnHostClient } from '../client/txn/txn_host_client.js';
import { PdCommand } from './base_command.js';

export abstract class TxnCommand<T extends typeof Command> extends PdCommand<T> {
  private txnClientValue: TxnClient | undefined;
  private hostClient: TxnHostClient | undefined;

  /** A TxnClient over --pd whose calls give up within --timeout. */
  protected txnClient(): TxnClient {
    this.txnClientValue ??= createTxnClient({ pd: this.pd(), timeoutMs: this.budgetMs() });
    return this.txnClientValue;
  }

  /** The client of the stores' TxnHost service. */
  protected host(): TxnHostClient {
    this.hostClient ??= new TxnHostClient(this.pd(), { timeoutMs: this.budgetMs() });
    return this.hostClient;
  }

  /** Asks PD first, so an unreachable PD is the error in its own words. */
  protected async ready(): Promise<void> {
    await this.pd().getClusterId();
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    if (this.txnClientValue) {
      // Let the secondaries' commits go out before the process ends (readers would
      // resolve them anyway, but at a cost).
      await Promise.race([this.txnClientValue.flush(), new Promise((r) => setTimeout(r, 2000))]);
      this.txnClientValue.close();
    }
    this.hostClient?.close();
    return super.finally(err);
  }
}
