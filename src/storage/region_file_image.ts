// A Region's first file, made in memory and written whole. A store creates one file per
// bootstrapped Region, thousands at a cluster's first start; through a handle each costs
// an open that makes the file and its WAL, the schema, a transaction and, once the pool
// evicts it, a close that checkpoints with fsyncs — most of a store's work until every
// Region had a leader. An in-memory database with the schema (made once per process) and
// the first state, serialized, is the same SQLite file at a fraction of that.
import Database from 'better-sqlite3';
import { REGION_SCHEMA, RegionStatements } from './region_schema.js';

let emptyImage: Buffer | undefined;

/** The bytes of a Region database file holding what `write` puts in an empty one. */
export function regionFileImage(write: (st: RegionStatements) => void): Buffer {
  emptyImage ??= serializeFresh();
  const db = new Database(emptyImage);
  try {
    db.transaction(() => write(new RegionStatements(db)))();
    const image = db.serialize();
    // File format write and read versions 2 (bytes 18 and 19 of the header, sqlite.org
    // fileformat §1.3.3): a WAL database, as openDatabase makes every Region file, so the
    // first open need not convert it.
    image[18] = 2;
    image[19] = 2;
    return image;
  } finally {
    db.close();
  }
}

function serializeFresh(): Buffer {
  const db = new Database(':memory:');
  try {
    db.exec(REGION_SCHEMA);
    return db.serialize();
  } finally {
    db.close();
  }
}
