// The client of a store's TxnHost service (proto/txn_host.proto): begins a transaction
// held by a store and acts inside it by id. The id names the holding store; its address
// comes from PD. Failures come back as TxnHostCallError with the service's code.
import * as grpc from '@grpc/grpc-js';
import { StoreState } from '../../pd/types.js';
import { loadNyxProto, type TxnHostClient as GrpcTxnHostClient } from '../../proto/load.js';
import type { TxnHostError__Output } from '../../proto-gen/nyx/txnhost/TxnHostError.js';
import { parseTxnId } from './txn_id.js';
import { ConnectionError, InvalidArgumentError, NyxError } from '../errors.js';
import { grpcErrorToNyx } from '../kv_connection.js';
import type { PdClient } from '../pd_client.js';
import type { KvPair } from '../raw_client.js';
import type { BeginOptions } from './transaction.js';
import { showKey } from './txn_errors.js';

export type TxnHostCode =
  | 'CONFLICT'
  | 'ABORTED'
  | 'EXPIRED'
  | 'UNKNOWN_TXN'
  | 'UNDETERMINED'
  | 'KEY_EXISTS'
  | 'INVALID'
  | 'TOO_MANY'
  | 'BUSY'
  | 'INTERNAL';

/** A TxnHost call that the store answered with an error. */
export class TxnHostCallError extends NyxError {
  constructor(
    readonly code: TxnHostCode,
    message: string,
    readonly key?: Buffer,
  ) {
    super(message);
  }
}

function check(e: TxnHostError__Output | null): void {
  if (!e || !e.code) return;
  const key = e.key.length > 0 ? Buffer.from(e.key) : undefined;
  let message = e.message;
  // The one line a script sees says "conflict" and names the key, whatever the cause.
  if (e.code === 'CONFLICT' && key && !/conflict/i.test(message)) {
    message = `conflict on key ${showKey(key)}: ${message}`;
  }
  throw new TxnHostCallError(e.code as TxnHostCode, message, key);
}

export interface TxnHostClientOptions {
  timeoutMs: number;
  credentials?: grpc.ChannelCredentials;
}

export class TxnHostClient {
  private readonly clients = new Map<string, GrpcTxnHostClient>();

  constructor(
    private readonly pd: PdClient,
    private readonly opts: TxnHostClientOptions,
  ) {}

  private client(address: string): GrpcTxnHostClient {
    let c = this.clients.get(address);
    if (!c) {
      const { nyx } = loadNyxProto();
      c = new nyx.txnhost.TxnHost(
        address,
        this.opts.credentials ?? grpc.credentials.createInsecure(),
      );
      this.clients.set(address, c);
    }
    return c;
  }

  private call<Req, Res>(
    address: string,
    method: string,
    req: Req,
  ): Promise<Res & { error: TxnHostError__Output | null }> {
    const c = this.client(address) as unknown as Record<
      string,
      (r: Req, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void
    >;
    return new Promise((resolve, reject) => {
      c[method]!.call(c, req, { deadline: Date.now() + this.opts.timeoutMs }, (err, res) => {
        if (err) reject(grpcErrorToNyx(address, err));
        else {
          const r = res as Res & { error: TxnHostError__Output | null };
          try {
            check(r.error);
            resolve(r);
          } catch (e) {
            reject(e);
          }
        }
      });
    });
  }

  private async addressOf(txnId: string): Promise<string> {
    const id = parseTxnId(txnId);
    if (!id) throw new InvalidArgumentError(`${JSON.stringify(txnId)} is not a transaction id`);
    const store = await this.pd.getStore(id.storeId);
    if (!store) {
      throw new TxnHostCallError(
        'UNKNOWN_TXN',
        `store ${id.storeId} of transaction ${txnId} is not known to PD`,
      );
    }
    return store.address;
  }

  /** Begins a transaction on one of the cluster's stores (the first Up one that answers). */
  async begin(
    options: BeginOptions,
    /** Roll back after this long without a call (ms); 0: the store's idle TTL. */
    idleTtlMs = 0,
  ): Promise<{ txnId: string; startTs: bigint; idleTtlMs: number }> {
    const stores = (await this.pd.getAllStores(true)).filter((s) => s.state === StoreState.Up);
    if (stores.length === 0) throw new NyxError('no store is up');
    // Spread the held transactions over the stores.
    const first = Math.floor(Math.random() * stores.length);
    let last: unknown;
    for (let i = 0; i < stores.length; i++) {
      const s = stores[(first + i) % stores.length]!;
      try {
        const r = await this.call<object, { txnId: string; startTs: string; idleTtlMs: string }>(
          s.address,
          'Begin',
          {
            pessimistic: options.pessimistic ?? false,
            asyncCommit: options.asyncCommit ?? false,
            onePc: options.onePC ?? true,
            idleTtlMs,
          },
        );
        return { txnId: r.txnId, startTs: BigInt(r.startTs), idleTtlMs: Number(r.idleTtlMs) };
      } catch (e) {
        if (!(e instanceof ConnectionError)) throw e;
        last = e;
      }
    }
    throw last;
  }

  async get(txnId: string, key: Buffer): Promise<Buffer | undefined> {
    const r = await this.call<object, { value: Buffer; notFound: boolean }>(
      await this.addressOf(txnId),
      'Get',
      { txnId, key },
    );
    return r.notFound ? undefined : Buffer.from(r.value);
  }

  async put(txnId: string, key: Buffer, value: Buffer): Promise<void> {
    await this.call(await this.addressOf(txnId), 'Put', { txnId, key, value });
  }

  async delete(txnId: string, key: Buffer): Promise<void> {
    await this.call(await this.addressOf(txnId), 'Delete', { txnId, key });
  }

  async scan(
    txnId: string,
    start: Buffer,
    end: Buffer,
    options: { limit?: number; keyOnly?: boolean } = {},
  ): Promise<KvPair[]> {
    const r = await this.call<object, { pairs: { key: Buffer; value: Buffer }[] }>(
      await this.addressOf(txnId),
      'Scan',
      {
        txnId,
        startKey: start,
        endKey: end,
        limit: options.limit ?? 0,
        keyOnly: options.keyOnly ?? false,
      },
    );
    return r.pairs.map((p) => ({ key: Buffer.from(p.key), value: Buffer.from(p.value) }));
  }

  async commit(txnId: string): Promise<bigint> {
    const r = await this.call<object, { commitTs: string }>(await this.addressOf(txnId), 'Commit', {
      txnId,
    });
    return BigInt(r.commitTs);
  }

  async rollback(txnId: string): Promise<void> {
    await this.call(await this.addressOf(txnId), 'Rollback', { txnId });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
