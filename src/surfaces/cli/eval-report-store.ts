/**
 * Where `spri eval` keeps its reports for `spri view`. A run's report goes into the store the run
 * used. A report made without a model (--judged, correlate) has no run: it is kept as a finished run
 * of its own only when a store is named (--store, SPRI_STORE or the config file's `store`), so that
 * re-scoring released files never leaves a spri.db behind unasked.
 */
import { resolveSettings } from "../../config/config.ts";
import { type EvalCase, keepEvalReport, type StoredEvalReport } from "../../runtime/runner/eval-report.ts";
import { redactUrl } from "../../base/util/redact-url.ts";
import { settingInputs } from "./options.ts";

/** The store the command names (`raw`: its options, for the settings flags); undefined when it would be the default. */
export function namedStore(raw: Record<string, unknown>): string | undefined {
  const { settings, sources } = resolveSettings(settingInputs(raw));
  return sources.store === "default" || sources.store === "unset" ? undefined : settings.store;
}

/** Keeps a run's report in the store its run used. */
export async function keepRunReport(store: string, runId: string, report: StoredEvalReport): Promise<void> {
  await keepEvalReport(store, { runId }, report);
}

/** Keeps a model-free report as a run of its own when a store is named (`raw`: the command's options), and says where. */
export async function keepModelFreeReport(
  raw: Record<string, unknown>,
  run: { task: string; inputPath: string; settings: Record<string, unknown>; cases: readonly EvalCase[] },
  report: StoredEvalReport,
): Promise<void> {
  const store = namedStore(raw);
  if (store === undefined) return;
  const runId = await keepEvalReport(store, run, report);
  process.stderr.write(`spri: report kept in ${redactUrl(store)} as run ${runId} (spri view shows it)\n`);
}
