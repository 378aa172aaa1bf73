// Base of the commands that read and write data: a RawClient over the command's PD client,
// within the command's --timeout.
import { Command } from '@oclif/core';
import { createRawClient } from '../client/create_client.js';
import type { RawClient } from '../client/raw_client.js';
import { PdCommand } from './base_command.js';

export abstract class KvCommand<T extends typeof Command> extends PdCommand<T> {
  private rawClient: RawClient | undefined;

  /** A RawClient over --pd whose calls give up within --timeout. */
  protected raw(): RawClient {
    const tls = this.tls();
    this.rawClient ??= createRawClient({
      pd: this.pd(),
      timeoutMs: this.budgetMs(),
      ...(tls ? { tls } : {}),
    });
    return this.rawClient;
  }

  /**
   * Runs one data call. PD is asked first: when it cannot be reached, that is the error,
   * in its words ("cannot reach PD at … (connection refused)"), rather than a Region
   * lookup that failed.
   */
  protected async call<R>(f: (raw: RawClient) => Promise<R>): Promise<R> {
    await this.pd().getClusterId();
    return f(this.raw());
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.rawClient?.close();
    return super.finally(err);
  }
}
