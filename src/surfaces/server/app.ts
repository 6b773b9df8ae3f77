/**
 * The viewer's HTTP app (Hono): a JSON API over the run store, server-sent events for live runs and
 * the playground, and the built web app. Thin: it reads through `RunStore` and shapes answers.
 *
 *   GET  /api/info                               version; playground choices, when enabled
 *   GET  /api/runs?limit&offset                  runs, newest first, with counts and usage
 *   GET  /api/runs/:id                           one run with its (redacted) settings
 *   GET  /api/runs/:id/stats                     score distributions, iterations, failures, timeline
 *   GET  /api/runs/:id/judge                     judge runs: judge vs human score, per group
 *   GET  /api/runs/:id/eval                      evaluation runs: the report kept with the run (means, tests, win rates…)
 *   GET  /api/runs/:id/eval/cases?limit&offset   its per-case judgements: the judged items in the report kind's columns
 *   GET  /api/runs/:id/constitution              discovery runs: constitution and 2-D map of principles
 *   GET  /api/runs/:id/items?limit&offset&status&sort
 *   GET  /api/runs/:id/items/:itemId             the input, each stage's versions and critiques
 *   GET  /api/runs/:id/items/:itemId/calls       every call of the item
 *   GET  /api/runs/:id/workers                   items done/failed/leased/pending, rate, ETA, workers
 *   GET  /api/runs/:id/events                    SSE: `progress` and `workers` snapshots while it runs, then `end`
 *                                                (with the shown status: a run whose process is gone ends `interrupted`)
 *   GET  /api/iterations                         `--iterations DIR`: metrics per iteration, constitutions side by side
 *   POST /api/playground                         start one question; answers { runId, itemId }
 *   GET  /api/playground/:runId/events           SSE: `start`, `call`..., `done` or `error`
 *
 * Every request passes `accessGuard` (Host, Origin, token), and no body over `MAX_BODY_BYTES` is
 * read (413). No answer carries a credential: the
 * store keeps none, and run settings are redacted again on the way out.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import { SpriError } from "../../base/errors/errors.ts";
import { readEvalReport } from "../../runtime/runner/eval-report.ts";
import { readIterationsOverview } from "../../runtime/runner/iterations-overview.ts";
import { runState } from "../../runtime/runner/run-state.ts";
import { watchRun } from "../../runtime/runner/run-watch.ts";
import {
  ITEM_SORTS,
  ITEM_STATUSES,
  type ItemSort,
  type ItemStatus,
  redactSettings,
  type RunMeta,
  type RunStore,
} from "../../runtime/store/run-store.ts";
import type {
  CallListResponse,
  ConstitutionResponse,
  EvalReportResponse,
  ItemListResponse,
  IterationsResponse,
  RunDetailResponse,
  RunListResponse,
  RunProgress,
  RunStatsResponse,
  RunSummary,
  RunWorkersResponse,
  ServerInfoResponse,
} from "./api-types.ts";
import { itemDetail, itemSummary } from "./item-view.ts";
import { evalCases } from "./eval-view.ts";
import { WorkersFeed } from "./workers-feed.ts";
import { isJudgeRun, judgeReport } from "./judge-report.ts";
import { Playground, type PlaygroundOptions, PlaygroundRequestError } from "./playground.ts";
import { type AccessOptions, accessGuard, accessPolicy, scrubSecrets, securityHeaders } from "./safety.ts";
import { DEFAULT_WEB_DIR, serveStatic } from "./static-files.ts";
import { spriVersion } from "../../base/util/package-version.ts";

export interface AppOptions {
  store: RunStore;
  /** Host, port and token the server is reached with (see safety.ts). */
  access: AccessOptions;
  /** The built web app (default: web/dist of this checkout). */
  webDir?: string;
  /** Enables the playground. */
  playground?: PlaygroundOptions;
  /** A discovery iterations directory (`spri view --iterations DIR`), read on every request. */
  iterationsDir?: string;
  /** How often the events stream reads the store (default 1,000 ms). */
  pollMs?: number;
  /** A comment line keeps idle streams open through proxies (default every 15 s). */
  heartbeatMs?: number;
  version?: string;
}

export interface ViewerApp {
  app: Hono;
  playground?: Playground;
}

const MAX_LIMIT = 1000;
/** The largest request body read (the playground's question, goal and reference fit many times over). */
export const MAX_BODY_BYTES = 1024 * 1024;

export function createApp(options: AppOptions): ViewerApp {
  const { store } = options;
  const pollMs = options.pollMs ?? 1000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const playground = options.playground ? new Playground(store, options.playground) : undefined;
  const app = new Hono();

  app.use("*", securityHeaders());
  app.use("*", accessGuard(accessPolicy(options.access)));
  // Before any handler reads a body: a declared length over the limit is refused at once, and a
  // chunked body is counted as it arrives and refused once past the limit, so memory stays bounded.
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: `the request body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB` }, 413),
    }),
  );

  app.onError((error, c) => {
    if (error instanceof PlaygroundRequestError) return c.json({ error: error.message }, error.status);
    if (error instanceof BadRequest) return c.json({ error: error.message }, 400);
    if (error instanceof SpriError) return c.json({ error: error.message }, 500);
    return c.json({ error: "internal error" }, 500);
  });

  const summary = async (run: RunMeta): Promise<RunSummary> => {
    const [counts, usage] = await Promise.all([store.itemCounts(run.id), store.runUsage(run.id)]);
    const state = await runState(store, run, { counts });
    const { settings: _settings, key: _key, ...meta } = run;
    return scrubSecrets({
      ...meta,
      ...state,
      counts,
      usage,
      durationMs: Math.max(0, Date.parse(run.updatedAt) - Date.parse(run.createdAt)),
    });
  };

  app.get("/api/info", (c) => {
    const info: ServerInfoResponse = {
      version: options.version ?? spriVersion(),
      playground: playground ? playground.info : null,
      iterations: options.iterationsDir !== undefined,
    };
    return c.json(info);
  });

  app.get("/api/iterations", (c) => {
    if (options.iterationsDir === undefined)
      return c.json(
        { error: "no iterations directory: start spri view with --iterations DIR (the directory of spri discover iterate)" },
        404,
      );
    const body: IterationsResponse = readIterationsOverview(options.iterationsDir);
    return c.json(scrubSecrets(body));
  });

  app.get("/api/runs", async (c) => {
    const limit = intParam(c.req.query("limit"), 100, 1, MAX_LIMIT, "limit");
    const offset = intParam(c.req.query("offset"), 0, 0, Number.MAX_SAFE_INTEGER, "offset");
    const runs = await store.listRuns({ limit: limit + 1, offset });
    const body: RunListResponse = {
      runs: await Promise.all(runs.slice(0, limit).map(summary)),
      limit,
      offset,
      hasMore: runs.length > limit,
    };
    return c.json(body);
  });

  app.get("/api/runs/:id", async (c) => {
    const run = await store.getRun(c.req.param("id"));
    if (!run) return c.json({ error: "no such run" }, 404);
    const body: RunDetailResponse = {
      run: { ...(await summary(run)), key: run.key, settings: scrubSecrets(redactSettings(run.settings)) },
      evalReport: (await readEvalReport(store, run.id))?.kind ?? null,
    };
    return c.json(body);
  });

  app.get("/api/runs/:id/stats", async (c) => {
    const runId = c.req.param("id");
    if (!(await store.getRun(runId))) return c.json({ error: "no such run" }, 404);
    const body: RunStatsResponse = { runId, ...(await store.runStats(runId)) };
    return c.json(body);
  });

  app.get("/api/runs/:id/judge", async (c) => {
    const run = await store.getRun(c.req.param("id"));
    if (!run) return c.json({ error: "no such run" }, 404);
    if (!isJudgeRun(run.task)) return c.json({ error: "not a judge run" }, 404);
    const field = (name: string) => {
      const value = c.req.query(name);
      if (value !== undefined && (value.length > 200 || value === "")) throw new BadRequest(`${name} must be a field name`);
      return value;
    };
    const groupBy = field("groupBy");
    return c.json(
      await judgeReport(store, run.id, {
        scoreField: field("scoreField"),
        humanField: field("humanField"),
        groupBy: groupBy === "none" ? null : groupBy,
      }),
    );
  });

  app.get("/api/runs/:id/eval", async (c) => {
    const runId = c.req.param("id");
    const report = await readEvalReport(store, runId);
    if (!report) return c.json({ error: "this run keeps no evaluation report" }, 404);
    const body: EvalReportResponse = { ...report, runId };
    return c.json(scrubSecrets(body));
  });

  app.get("/api/runs/:id/eval/cases", async (c) => {
    const runId = c.req.param("id");
    const report = await readEvalReport(store, runId);
    if (!report) return c.json({ error: "this run keeps no evaluation report" }, 404);
    const limit = intParam(c.req.query("limit"), 100, 1, MAX_LIMIT, "limit");
    const offset = intParam(c.req.query("offset"), 0, 0, Number.MAX_SAFE_INTEGER, "offset");
    return c.json(scrubSecrets(await evalCases(store, runId, report.kind, { limit, offset })));
  });

  app.get("/api/runs/:id/constitution", async (c) => {
    const runId = c.req.param("id");
    if (!(await store.getRun(runId))) return c.json({ error: "no such run" }, 404);
    const artifact = (await store.getArtifact(runId, "constitution")) as Omit<ConstitutionResponse, "runId"> | undefined;
    if (artifact === undefined || artifact === null || typeof artifact !== "object")
      return c.json({ error: "this run has no constitution" }, 404);
    const body: ConstitutionResponse = { runId, constitution: artifact.constitution, map: Array.isArray(artifact.map) ? artifact.map : [] };
    return c.json(scrubSecrets(body));
  });

  app.get("/api/runs/:id/items", async (c) => {
    const runId = c.req.param("id");
    if (!(await store.getRun(runId))) return c.json({ error: "no such run" }, 404);
    const limit = intParam(c.req.query("limit"), 100, 1, MAX_LIMIT, "limit");
    const offset = intParam(c.req.query("offset"), 0, 0, Number.MAX_SAFE_INTEGER, "offset");
    const statusParam = c.req.query("status");
    if (statusParam !== undefined && statusParam !== "" && !ITEM_STATUSES.includes(statusParam as ItemStatus)) {
      throw new BadRequest(`status must be one of ${ITEM_STATUSES.join(", ")}`);
    }
    const status = statusParam ? (statusParam as ItemStatus) : undefined;
    const sortParam = c.req.query("sort") || "seq";
    if (!ITEM_SORTS.includes(sortParam as ItemSort)) throw new BadRequest(`sort must be one of ${ITEM_SORTS.join(", ")}`);
    const sort = sortParam as ItemSort;
    const [items, counts] = await Promise.all([store.listItems(runId, { limit, offset, status, sort }), store.itemCounts(runId)]);
    const body: ItemListResponse = {
      items: items.map(itemSummary),
      total: status ? counts[status] : counts.total,
      limit,
      offset,
      sort,
      ...(status ? { status } : {}),
    };
    return c.json(body);
  });

  app.get("/api/runs/:id/items/:itemId", async (c) => {
    const item = await store.getItem(c.req.param("id"), c.req.param("itemId"));
    if (!item) return c.json({ error: "no such item" }, 404);
    return c.json(itemDetail(item));
  });

  app.get("/api/runs/:id/items/:itemId/calls", async (c) => {
    const runId = c.req.param("id");
    const itemId = c.req.param("itemId");
    if (!(await store.getItem(runId, itemId))) return c.json({ error: "no such item" }, 404);
    const calls = await store.listCalls(runId, itemId);
    const body: CallListResponse = { calls: calls.map((call) => ({ ...call, endpoint: scrubSecrets(call.endpoint) })) };
    return c.json(body);
  });

  app.get("/api/runs/:id/workers", async (c) => {
    const run = await store.getRun(c.req.param("id"));
    if (!run) return c.json({ error: "no such run" }, 404);
    const body: RunWorkersResponse = scrubSecrets(await watchRun(store, run));
    return c.json(body);
  });

  app.get("/api/runs/:id/events", async (c) => {
    const runId = c.req.param("id");
    if (!(await store.getRun(runId))) return c.json({ error: "no such run" }, 404);
    return streamSSE(c, async (stream) => {
      const abort = new AbortController();
      stream.onAbort(() => abort.abort());
      let last = "";
      const workers = new WorkersFeed(store);
      let quietSince = Date.now();
      while (!stream.aborted && !stream.closed) {
        const run = await store.getRun(runId);
        if (!run) break;
        const snapshot = await progress(store, run);
        const text = JSON.stringify(snapshot);
        const watch = await workers.next(run, snapshot.counts.done + snapshot.counts.failed);
        if (text !== last) {
          await stream.writeSSE({ event: "progress", data: text });
          last = text;
          quietSince = Date.now();
        }
        if (watch !== undefined) {
          await stream.writeSSE({ event: "workers", data: JSON.stringify(scrubSecrets(watch)) });
          quietSince = Date.now();
        } else if (Date.now() - quietSince >= heartbeatMs) {
          await stream.write(": keep-alive\n\n");
          quietSince = Date.now();
        }
        if (snapshot.status !== "running") {
          await stream.writeSSE({ event: "end", data: snapshot.status });
          break;
        }
        await sleep(pollMs, abort.signal);
      }
    });
  });

  app.post("/api/playground", async (c) => {
    if (!playground) return c.json({ error: "the playground is off (start spri view with model settings to enable it)" }, 404);
    if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/json")) {
      return c.json({ error: "send application/json" }, 415);
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new BadRequest("the body is not valid JSON");
    }
    return c.json(await playground.start(body), 201);
  });

  app.get("/api/playground/:runId/events", (c) => {
    const runId = c.req.param("runId");
    if (!playground || !playground.has(runId))
      return c.json({ error: "no such playground run (it may have ended before this server started)" }, 404);
    return streamSSE(c, async (stream) => {
      const abort = new AbortController();
      stream.onAbort(() => abort.abort());
      for await (const event of playground.events(runId, abort.signal)) {
        if (stream.aborted) break;
        await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
      }
    });
  });

  app.all("/api/*", (c) => c.json({ error: "no such API route" }, 404));
  app.get("*", serveStatic(options.webDir ?? DEFAULT_WEB_DIR));

  return playground ? { app, playground } : { app };
}

class BadRequest extends Error {}

function intParam(value: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  if (!/^\d+$/.test(value)) throw new BadRequest(`${name} must be a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new BadRequest(`${name} must be from ${min} to ${max}`);
  return n;
}

export async function progress(store: RunStore, run: RunMeta): Promise<RunProgress> {
  const [counts, usage] = await Promise.all([store.itemCounts(run.id), store.runUsage(run.id)]);
  const { status } = await runState(store, run, { counts });
  return {
    runId: run.id,
    status,
    updatedAt: run.updatedAt,
    counts,
    usage,
    durationMs: Math.max(0, Date.parse(run.updatedAt) - Date.parse(run.createdAt)),
  };
}

/** Sleeps, waking early when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
