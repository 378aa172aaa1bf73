// A Region's first file, made in memory and written whole. A store creates one file per
// bootstrapped Region, thousands at a cluster's first start; through a handle each costs
// an open that makes the file and its WAL, the schema, a transaction and, once the pool
// evicts it, a close that checkpoints with fsyncs — most of a store's work until every
// Region had a leader. An in-memory database with the schema and the first state,
// serialized, is the same SQLite file at a fraction of that. One such database, made once
// per process and kept, builds every image: the local state is written, the database
// serialized, and the rows deleted again (opening a database per image, which parses the
// schema and prepares the statements, cost twice as much as the rest).
import Database from 'better-sqlite3';
import { REGION_SCHEMA, RegionStatements } from './region_schema.js';

interface ImageBuilder {
  db: Database.Database;
  st: RegionStatements;
  clear: Database.Statement;
}

let builder: ImageBuilder | undefined;

/** The bytes of a Region database file holding these rows of local state and nothing else. */
export function regionFileImage(
  locals: readonly (readonly [name: string, value: string])[],
): Buffer {
  builder ??= openBuilder();
  const { db, st, clear } = builder;
  try {
    db.transaction(() => {
      for (const [name, value] of locals) st.putLocal().run(name, value);
    })();
    const image = db.serialize();
    // File format write and read versions 2 (bytes 18 and 19 of the header, sqlite.org
    // fileformat §1.3.3): a WAL database, as openDatabase makes every Region file, so the
    // first open need not convert it.
    image[18] = 2;
    image[19] = 2;
    return image;
  } finally {
    clear.run();
  }
}

function openBuilder(): ImageBuilder {
  const db = new Database(':memory:');
  db.exec(REGION_SCHEMA);
  return { db, st: new RegionStatements(db), clear: db.prepare('DELETE FROM local_state') };
}
