// Generates the TypeScript types of the wire contracts (proto/*.proto) into
// src/proto-gen/ with @grpc/proto-loader's own generator, so that the types can never
// drift from what the loader produces at run time. Run by `npm run proto`, which
// `npm run build` runs first; src/proto-gen/ is not committed.
//
// One place for the options: proto/loader.json lists the entry files and the loader
// options; this script turns them into generator flags and src/proto/load.ts hands the
// same object to protoLoader.loadSync. The choices, and why:
//   keepCase false   fields are camelCase in TypeScript (region_epoch -> regionEpoch),
//                    like the rest of the code base.
//   longs  String    uint64 ids, terms and timestamps arrive as decimal strings: exact
//                    beyond 2^53 (TSO timestamps are), converted with BigInt / Number at
//                    the edges (src/proto/uint64.ts).
//   enums  String    enum values arrive as their names, which are spelled like our
//                    TypeScript enums (PeerRole 'Voter', StoreState 'Up', ...).
//   bytes  Buffer    keys and values stay binary, no base64 round trips.
//   defaults true    absent scalars and repeated fields read as their zero values, so
//                    the output types have no needless optionals; absent messages read
//                    as null.
//   oneofs true      each oneof gets a virtual field naming the member that is set
//                    (RegionError.kind === 'notLeader'), which makes switches exhaustive.
//
// Only the files that define services are entry points: the generator writes one root
// file per entry point, and for a file without a service (meta, errors) that root file
// carries an unused import that the strict tsconfig (noUnusedLocals) rejects. Their
// messages are generated anyway, as dependencies of the service files. Relative imports
// in the output get a '.js' extension (--importFileExtension) as NodeNext ESM requires;
// with that, the generated code compiles under the repo's tsconfig unchanged.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join(root, 'proto');
const outDir = join(root, 'src', 'proto-gen');
const { files, options } = JSON.parse(readFileSync(join(protoDir, 'loader.json'), 'utf8'));

const flags = [];
if (options.keepCase) flags.push('--keepCase');
if (options.longs !== undefined) flags.push(`--longs=${options.longs}`);
if (options.enums !== undefined) flags.push(`--enums=${options.enums}`);
if (options.bytes !== undefined) flags.push(`--bytes=${options.bytes}`);
if (options.defaults) flags.push('--defaults');
if (options.oneofs) flags.push('--oneofs');

// Start from an empty directory so a removed or renamed message leaves no stale file.
rmSync(outDir, { recursive: true, force: true });

const require = createRequire(import.meta.url);
const generator = require.resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js');
execFileSync(
  process.execPath,
  [
    generator,
    ...flags,
    '--grpcLib=@grpc/grpc-js',
    '--importFileExtension=.js',
    '--includeComments',
    '-I',
    'proto',
    '-O',
    join('src', 'proto-gen'),
    ...files,
  ],
  // Relative paths from the package root keep machine paths out of the generated
  // "Original file:" comments.
  { cwd: root, stdio: 'inherit' },
);
console.log(`proto: generated types for ${files.join(', ')} into src/proto-gen/`);
