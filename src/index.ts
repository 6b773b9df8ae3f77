/** The public API of spri, listed explicitly. */
export { SpriError, InputError, ConfigError, ModelError, type ModelErrorKind, isSpriError } from "./base/errors/errors.ts";
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
export { runSpri, DEFAULT_SETTINGS, PAPER_SAMPLING, type SpriSteps, type SpriSettings, type SpriResult } from "./algorithms/spri/spri.ts";
export type { SpriModels } from "./algorithms/contract/item-algorithm.ts";
export { refineUntilAccepted, type LoopOutcome } from "./algorithms/spri/refine-loop.ts";
export { parseCritique, critiqueSchema, type ParsedCritique } from "./algorithms/spri/critic-score.ts";
export { resolveCompat, DEFAULT_COMPAT, REFERENCE_COMPAT, type CompatOptions } from "./algorithms/spri/compat.ts";
export { taskSteps, type TaskOptions } from "./presets/tasks/spri-task.ts";
export { toTaskItem, type TaskName, type FieldMapping } from "./presets/tasks/task-item.ts";
export type { TaskItem } from "./algorithms/contract/task-item.ts";
export { loadSeeds, formatFewShot, type SeedSet } from "./presets/tasks/seeds.ts";
export { prepareTask, type PreparedTask } from "./presets/tasks/prepare.ts";
export { builtinPack, directoryPack, type PromptPack } from "./io/prompts/prompt-pack.ts";
export { resolveSettings, SETTINGS, redacted } from "./config/config.ts";
export { createModel, createModels, modelSpecs } from "./config/models.ts";
export { runJob, type BatchRunOptions, type RunJobOptions, type RunJobResult } from "./runtime/runner/run-job.ts";
export type { BatchApi, BatchFormat } from "./models/batch-provider.ts";
export { OPENAI_BATCH_FORMAT, OpenAIBatchApi, type OpenAIBatchApiOptions } from "./models/openai-batch.ts";
export { dryRun, type DryRunEstimate } from "./runtime/runner/dry-run.ts";
export { readInputRows, countInputRows } from "./io/input-reader.ts";
export { exportRecords, EXPORT_FORMATS } from "./io/exports.ts";
export { PriceTable, DEFAULT_PRICES, type Budget } from "./runtime/runner/cost.ts";
export { ResilientModel, makeResilient } from "./runtime/runner/resilient-model.ts";
export { SqliteStore } from "./runtime/store/sqlite-store.ts";
export { PostgresStore, redactUrl } from "./runtime/store/postgres-store.ts";
export { openStore } from "./runtime/store/open-store.ts";
export type { RunStore, RunMeta } from "./runtime/store/run-store.ts";
export { CachedModel, requestKey, type CacheMode } from "./runtime/store/call-cache.ts";
export type { CallRecord, ItemRecord } from "./io/records.ts";
export { align, type AlignOptions } from "./presets/align.ts";
