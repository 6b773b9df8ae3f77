/**
 * The PostgreSQL connection of a run store: a `pg.Pool`, transactions, and the one place where
 * driver errors become `StoreError`s. Every message names the store by its redacted URL and has the
 * password scrubbed, whatever the driver put into it.
 */
import pg from "pg";
import { redactUrl, scrubSecret } from "../../base/util/redact-url.ts";
import { StoreError } from "./run-store.ts";
import { messageOf } from "../../base/util/message-of.ts";

export type Queryable = pg.Pool | pg.PoolClient;
/** A statement: plain text, or a named (prepared once per connection) one. */
export type Statement = string | { name: string; text: string };

/** The database clock in epoch milliseconds, as lease expiries are stored. */
export const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/** PostgreSQL answers int8 (counts, BIGINT columns) as strings; numbers here stay below 2^53. */
export const toNumber = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

export class PostgresDb {
  readonly pool: pg.Pool;
  /** The URL with its password redacted: the only form that appears in messages. */
  readonly location: string;
  private readonly password: string | undefined;
  private closed = false;

  constructor(url: string, options: { max?: number } = {}) {
    this.location = redactUrl(url);
    this.password = passwordOf(url);
    this.pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, application_name: "spri" });
    // An idle connection that breaks (server restart) must not crash the process; the next query fails instead.
    this.pool.on("error", () => {});
  }

  assertOpen(): void {
    if (this.closed) throw new StoreError(`the run store ${this.location} is closed`);
  }

  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    statement: Statement,
    values: unknown[] = [],
    on: Queryable = this.pool,
  ): Promise<pg.QueryResult<R>> {
    const config = typeof statement === "string" ? { text: statement, values } : { ...statement, values };
    try {
      return await on.query<R>(config);
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /**
   * Runs `fn` in one transaction on one connection; rolls back and rethrows when it throws. A
   * transaction the server aborted to break a deadlock (or a serialization conflict) is tried
   * again, up to three times: `fn` must only touch the database.
   */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(fn);
      } catch (error) {
        const code = sqlState(error);
        if (attempt >= 3 || (code !== "40P01" && code !== "40001")) throw error;
      }
    }
  }

  private async transactionOnce<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.wrap(error);
    }
    let broken = false;
    // A checked-out connection that breaks between two queries (a cut network) emits 'error' on
    // the client, which the pool only listens to while it is idle: unheard, it would crash the
    // process. The transaction's next query fails instead, and the connection is thrown away.
    const onError = () => {
      broken = true;
    };
    client.on("error", onError);
    try {
      await this.query("BEGIN", [], client);
      const value = await fn(client);
      await this.query("COMMIT", [], client);
      return value;
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = true;
      }
      throw this.wrap(error);
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  /** A driver error as a StoreError that names the store (redacted) and never carries the password. */
  wrap(error: unknown): StoreError {
    if (error instanceof StoreError) return error;
    const raw = messageOf(error);
    const message = scrubSecret(raw, this.password);
    const code = (error as { code?: string } | null)?.code;
    const hint =
      code === "28P01" || code === "28000"
        ? "check the user and password of --store / SPRI_STORE"
        : code === "3D000"
          ? "create the database first (createdb), or point --store at an existing one"
          : code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "ETIMEDOUT"
            ? "check that the PostgreSQL server is running and reachable at that host and port"
            : undefined;
    // The cause is kept for debugging only when it cannot leak the password; the SQLSTATE always
    // (callers tell errors apart by it, and it holds no secret).
    const cause = this.password && raw.includes(this.password) ? undefined : error;
    const sqlState = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
    return new StoreError(`run store ${this.location}: ${message}`, { hint, cause, sqlState });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

function passwordOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    const password = decodeURIComponent(parsed.password) || parsed.searchParams.get("password") || "";
    return password === "" ? undefined : password;
  } catch {
    return undefined;
  }
}

/** The SQLSTATE of a failed query (PostgresDb.wrap keeps it on the StoreError). */
export function sqlState(error: unknown): string | undefined {
  return error instanceof StoreError ? error.sqlState : undefined;
}
