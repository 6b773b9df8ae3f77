/** The public API of spri, listed explicitly. */
export { SpriError, InputError, ConfigError, ModelError, type ModelErrorKind, isSpriError } from "./errors/errors.ts";
export type {
  LanguageModel,
  ChatMessage,
  GenerateRequest,
  GenerateResult,
  SamplingOptions,
  Usage,
  FinishReason,
  OutputSchema,
  ModelCapabilities,
} from "./models/language-model.ts";
export { OpenAICompatibleModel, type OpenAICompatibleOptions } from "./models/openai-compatible.ts";
export { AnthropicModel, type AnthropicOptions } from "./models/anthropic.ts";
export { ReplayBook, ReplayModel, loadReplayFile, entriesFromReferenceRow, normalizeText } from "./models/replay-model.ts";
export { runSpri, DEFAULT_SETTINGS, PAPER_SAMPLING, type SpriSteps, type SpriSettings, type SpriResult } from "./spri/spri.ts";
export type { SpriModels } from "./algorithm/item-algorithm.ts";
export { refineUntilAccepted, type LoopOutcome } from "./spri/refine-loop.ts";
export { parseCritique, critiqueSchema, type ParsedCritique } from "./spri/critic-score.ts";
export { resolveCompat, DEFAULT_COMPAT, REFERENCE_COMPAT, type CompatOptions } from "./spri/compat.ts";
export { taskSteps, type TaskOptions } from "./tasks/spri-task.ts";
export { toTaskItem, type TaskName, type FieldMapping } from "./tasks/task-item.ts";
export type { TaskItem } from "./algorithm/task-item.ts";
export { loadSeeds, formatFewShot, type SeedSet } from "./tasks/seeds.ts";
export { prepareTask, type PreparedTask } from "./tasks/prepare.ts";
export { builtinPack, directoryPack, type PromptPack } from "./prompts/prompt-pack.ts";
export { resolveSettings, SETTINGS, redacted } from "./config/config.ts";
export { createModel, createModels, modelSpecs } from "./config/models.ts";
export { runJob, type BatchRunOptions, type RunJobOptions, type RunJobResult } from "./runner/run-job.ts";
export type { BatchApi, BatchFormat } from "./models/batch-provider.ts";
export { OPENAI_BATCH_FORMAT, OpenAIBatchApi, type OpenAIBatchApiOptions } from "./models/openai-batch.ts";
export { dryRun, type DryRunEstimate } from "./runner/dry-run.ts";
export { readInputRows, countInputRows } from "./io/input-reader.ts";
export { exportRecords, EXPORT_FORMATS } from "./io/exports.ts";
export { PriceTable, DEFAULT_PRICES, type Budget } from "./runner/cost.ts";
export { ResilientModel, makeResilient } from "./runner/resilient-model.ts";
export { SqliteStore } from "./store/sqlite-store.ts";
export { PostgresStore, redactUrl } from "./store/postgres-store.ts";
export { openStore } from "./store/open-store.ts";
export type { RunStore, RunMeta } from "./store/run-store.ts";
export { CachedModel, requestKey, type CacheMode } from "./store/call-cache.ts";
export type { CallRecord, ItemRecord } from "./io/records.ts";
export { align, type AlignOptions } from "./align.ts";
