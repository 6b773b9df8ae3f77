/** The embedded PostgreSQL for tests lives in dev/postgres.ts, which the benchmarks share. */
export { type PostgresOptions, startPostgres, type TestPostgres } from "../../dev/postgres.ts";
