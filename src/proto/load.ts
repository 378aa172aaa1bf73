// Loads the wire contracts (proto/*.proto) at run time and hands out the gRPC package
// tree typed with the ProtoGrpcType that scripts/gen-proto.mjs generated from the same
// files with the same options (proto/loader.json), so servers and clients get typed
// service definitions, handlers and client constructors:
//
//   const { nyx } = loadNyxProto();
//   server.addService(nyx.kv.Kv.service, handlers);           // handlers: KvHandlers
//   const kv = new nyx.kv.Kv(address, grpc.credentials.createInsecure());
//
// The .proto files are read from the package root, found from this module's own
// location, so it works from src/ under a TS runner, from dist/, and from an installed
// tarball (package.json "files" ships proto/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as KvGrpcType } from '../proto-gen/kv.js';
import type { ProtoGrpcType as PdGrpcType } from '../proto-gen/pd.js';
import type { ProtoGrpcType as RaftGrpcType } from '../proto-gen/raft.js';
import type { ProtoGrpcType as TxnHostGrpcType } from '../proto-gen/txn_host.js';
import { deserializeRaftBatch, serializeRaftBatch } from './raft_wire.js';

export type { KvClient, KvHandlers, KvDefinition } from '../proto-gen/nyx/kv/Kv.js';
export type { PDClient, PDHandlers, PDDefinition } from '../proto-gen/nyx/pd/PD.js';
import type {
  RaftTransportClient,
  RaftTransportDefinition,
} from '../proto-gen/nyx/raft/RaftTransport.js';
export type {
  RaftTransportClient,
  RaftTransportHandlers,
  RaftTransportDefinition,
} from '../proto-gen/nyx/raft/RaftTransport.js';
export type {
  TxnHostClient,
  TxnHostHandlers,
  TxnHostDefinition,
} from '../proto-gen/nyx/txnhost/TxnHost.js';

/** The whole `nyx.*` package tree: meta, errors, raft, kv, pd and txnhost. */
export type NyxGrpcType = KvGrpcType & PdGrpcType & RaftGrpcType & TxnHostGrpcType;

/** proto/loader.json as written: option values are names, as the generator takes them. */
interface LoaderConfig {
  files: string[];
  options: {
    keepCase: boolean;
    longs: string;
    enums: string;
    bytes: string;
    defaults: boolean;
    oneofs: boolean;
  };
}

const PACKAGE_NAME = 'nyxdb';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const { name } = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string };
      if (name === PACKAGE_NAME) return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root`);
    dir = parent;
  }
}

/** The directory holding the .proto files. */
export const PROTO_DIR = join(findPackageRoot(), 'proto');

function readConfig(): LoaderConfig {
  return JSON.parse(readFileSync(join(PROTO_DIR, 'loader.json'), 'utf8')) as LoaderConfig;
}

// The generated types are only true for the options they were generated with, and the
// loader wants constructors where the generator wants names. Anything but the values
// below would need the types regenerated and the code reviewed, so it is refused.
function toLoaderOptions(o: LoaderConfig['options']): protoLoader.Options {
  const known = o.longs === 'String' && o.enums === 'String' && o.bytes === 'Buffer' && !o.keepCase;
  if (!known || !o.defaults || !o.oneofs) {
    throw new Error(`proto/loader.json: unsupported loader options ${JSON.stringify(o)}`);
  }
  // bytes: leaving it unset is what yields Buffers in Node.
  return {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [PROTO_DIR],
  };
}

let definition: protoLoader.PackageDefinition | undefined;
let tree: NyxGrpcType | undefined;

/** The raw package definition: method definitions with their (de)serializers. */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  if (definition === undefined) {
    const config = readConfig();
    definition = protoLoader.loadSync(config.files, toLoaderOptions(config.options));
  }
  return definition;
}

/**
 * The RaftTransport service as stores speak it to each other: its Raft stream's batches
 * are written and read by protobufjs directly (src/proto/raft_wire.ts), without the
 * loader's conversions to and from plain objects; uint64s arrive as `Long`s and enums as
 * numbers, which the envelope decoder takes (envelope_codec.ts). Everything else (the
 * snapshot stream) is as loadNyxProto's.
 */
export function raftTransportService(): RaftTransportDefinition {
  const service = loadNyxProto().nyx.raft.RaftTransport.service;
  return {
    ...service,
    Raft: {
      ...service.Raft,
      requestSerialize: serializeRaftBatch,
      requestDeserialize: deserializeRaftBatch,
    },
  } as RaftTransportDefinition;
}

let raftClient: typeof grpc.Client | undefined;

/** A client of raftTransportService (the store's transport to its peers). */
export function newRaftTransportClient(
  address: string,
  credentials: grpc.ChannelCredentials,
  options: grpc.ChannelOptions,
): RaftTransportClient {
  raftClient ??= grpc.makeClientConstructor(
    raftTransportService() as unknown as grpc.ServiceDefinition,
    'nyx.raft.RaftTransport',
  );
  return new raftClient(address, credentials, options) as unknown as RaftTransportClient;
}

/** The typed gRPC package tree (loaded once, then cached). */
export function loadNyxProto(): NyxGrpcType {
  // The cast is the one place where run-time loading meets the generated types; both
  // come from the same files and options, which is what makes it sound.
  tree ??= grpc.loadPackageDefinition(loadPackageDefinition()) as unknown as NyxGrpcType;
  return tree;
}
