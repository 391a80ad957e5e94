/**
 * Where the queue lives: `redis://[user:password@]host:port[/db][?prefix=kf&queue=graphs]`, from
 * `--queue` or `$KERNELFLOW_QUEUE` — never from a graph, so credentials stay out of experiments.
 * `prefix` namespaces every key (several teams or tests on one Redis); `queue` names the queue.
 */
import { UsageError } from '../document/resolve-params.js';

export interface QueueAddress {
  /** ioredis connection options (BullMQ workers need maxRetriesPerRequest: null). */
  connection: { host: string; port: number; username?: string; password?: string; db: number; tls?: object; maxRetriesPerRequest: null };
  prefix: string;
  name: string;
  /** The address with the password hidden, for messages. */
  display: string;
}

/** `flag` is the option's value (`true` when given without one); falls back to $KERNELFLOW_QUEUE. */
export function queueAddress(flag: string | boolean | undefined, env: NodeJS.ProcessEnv = process.env): QueueAddress {
  const text = typeof flag === 'string' ? flag : env.KERNELFLOW_QUEUE;
  if (!text) throw new UsageError('no queue address: pass --queue redis://host:port or set KERNELFLOW_QUEUE');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`malformed queue address '${redact(text)}': expected redis://[user:password@]host:port[/db]`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UsageError(`queue address must start with redis:// or rediss://, got '${url.protocol}//'`);
  }
  const db = url.pathname && url.pathname !== '/' ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new UsageError(`queue address: database '${url.pathname.slice(1)}' is not a number`);
  const prefix = url.searchParams.get('prefix') ?? 'kf';
  const name = url.searchParams.get('queue') ?? 'graphs';
  for (const [what, v] of [['prefix', prefix], ['queue', name]]) {
    // ':' separates BullMQ's key parts; keep names to a safe alphabet.
    if (!/^[A-Za-z0-9_.-]+$/.test(v)) throw new UsageError(`queue address: ${what} '${v}' may hold only letters, digits, '_', '.', '-'`);
  }
  const connection: QueueAddress['connection'] = { host: url.hostname || '127.0.0.1', port: url.port ? Number(url.port) : 6379, db, maxRetriesPerRequest: null };
  if (url.username) connection.username = decodeURIComponent(url.username);
  if (url.password) connection.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') connection.tls = {};
  return { connection, prefix, name, display: redact(text) };
}

function redact(text: string): string {
  return text.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
