// The Kv service over the simulated network, for the SDK's own TxnClient: a request is
// encoded with the Kv service's protobuf serializer, travels one latency (or is lost),
// is decoded and run by the store's own command handlers (kv_service.ts kvCommands, the
// code the gRPC server runs) as an event of the store's process (held while it is paused,
// gone if it crashes), and its answer travels back encoded the same way. A lost request or
// answer surfaces as the timeout the client set; a store that is down refuses the
// connection. Both are ConnectionErrors, exactly as grpc-js's failures become in
// kv_connection.ts.
import type {
  KvChannel,
  KvChannels,
  KvCommand,
  KvRequest,
  KvResponse,
} from '../../src/client/kv_connection.js';
import { UNARY_METHOD } from '../../src/client/kv_connection.js';
import { ConnectionError, RequestTimeoutError } from '../../src/client/errors.js';
import { loadNyxProto } from '../../src/proto/load.js';
import type { SimCluster } from './cluster.js';
import { WORLD } from './world.js';

interface MethodCodec {
  requestSerialize(v: unknown): Buffer;
  requestDeserialize(b: Buffer): unknown;
  responseSerialize(v: unknown): Buffer;
  responseDeserialize(b: Buffer): unknown;
}

const codecs = (): Record<string, MethodCodec> =>
  loadNyxProto().nyx.kv.Kv.service as unknown as Record<string, MethodCodec>;

export class SimKvChannels implements KvChannels {
  private readonly methods = codecs();
  requests = 0;

  constructor(private readonly cluster: SimCluster) {}

  get(address: string): KvChannel {
    const storeId = Number(/^sim-store-(\d+)$/.exec(address)?.[1]);
    if (!this.cluster.stores.has(storeId)) throw new Error(`no simulated store at ${address}`);
    const call = <C extends KvCommand>(cmd: C, req: KvRequest<C>, timeoutMs: number) =>
      this.call(address, storeId, cmd, req, timeoutMs);
    return { send: call, unary: call };
  }

  close(): void {}

  private call<C extends KvCommand>(
    address: string,
    storeId: number,
    cmd: C,
    req: KvRequest<C>,
    timeoutMs: number,
  ): Promise<KvResponse<C>> {
    const w = this.cluster.world;
    const codec = this.methods[UNARY_METHOD[cmd]]!;
    const bytes = codec.requestSerialize(req);
    this.requests++;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        timer.cancelled = true;
        f();
      };
      const timer = w.after(timeoutMs, WORLD, `client ${cmd} to store ${storeId} times out`, () =>
        settle(() =>
          reject(new RequestTimeoutError(address, `${cmd}: no answer in ${timeoutMs} ms`)),
        ),
      );
      const store = this.cluster.stores.get(storeId)!;
      if (!store.up) {
        w.after(this.cluster.latency(), WORLD, `store ${storeId} refuses ${cmd}`, () =>
          settle(() => reject(new ConnectionError(address, 'connection refused'))),
        );
        return;
      }
      if (w.rng.chance(this.cluster.net.dropRate)) return; // lost on the way: times out
      const incarnation = w.incarnation(storeId);
      w.at(
        w.now + this.cluster.latency(),
        storeId,
        `${cmd} arrives at store ${storeId}`,
        () => {
          const handler = store.commands[cmd] as (r: unknown) => Promise<object>;
          void handler(codec.requestDeserialize(bytes)).then((res) => {
            // The answer is lost with the process that ran it, or on the network.
            if (incarnation !== w.incarnation(storeId)) return;
            if (w.rng.chance(this.cluster.net.dropRate)) return;
            const out = codec.responseSerialize(res);
            w.after(this.cluster.latency(), WORLD, `answer to ${cmd}`, () =>
              settle(() => resolve(codec.responseDeserialize(out) as KvResponse<C>)),
            );
          });
        },
        incarnation,
      );
    });
  }
}
