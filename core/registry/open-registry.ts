/**
 * Opens (creating if needed) the SQLite run registry and brings its schema up to date.
 * better-sqlite3 loads lazily so commands that never record stay fast.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS } from './schema.js';

export type Registry = BetterSqlite3.Database;

export class RegistryError extends Error {
  override name = 'RegistryError';
}

/** Opens `file`; throws RegistryError when it cannot be created, is not a database, or is too new. */
export async function openRegistry(file: string): Promise<Registry> {
  const { default: Database } = await import('better-sqlite3');
  let db: Registry | undefined;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    db = new Database(file);
    // Several processes (parallel runs, sweeps) may record at once: wait for the lock, don't fail.
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof RegistryError) throw err;
    throw new RegistryError(`run registry ${file}: ${(err as Error).message}`);
  }
}

function checkVersion(db: Registry): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new RegistryError(`run registry ${db.name} has schema version ${version}, newer than this kernelflow knows (${MIGRATIONS.length}): upgrade kernelflow`);
  }
  return version;
}

function migrate(db: Registry): void {
  const version = checkVersion(db);
  if (version === MIGRATIONS.length) return;
  if (version === 0) db.pragma('journal_mode = WAL');
  db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
