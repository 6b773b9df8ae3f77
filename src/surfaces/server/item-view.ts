/**
 * Reads an output record (reference field names) into what the viewer shows: the input's fields,
 * each SPRI stage as draft → critique k (score, feedback) → refinement k → final, and the rest.
 */
import type { ItemRecord } from "../../io/records.ts";
import { ANY_QUESTION_FIELDS } from "../../io/question-fields.ts";
import type { ItemState } from "../../runtime/store/run-store.ts";
import type { ItemDetailResponse, ItemSummary, StageStep, StageView } from "./api-types.ts";

interface StageFields {
  name: StageView["name"];
  draft: string;
  critique: string;
  refined: string;
  error: string;
  final: string;
  count: string;
  scores: string;
}

const STAGES: readonly StageFields[] = [
  {
    name: "principles",
    draft: "principle_raw",
    critique: "principles_critique_iter_",
    refined: "principle_refined_iter_",
    error: "error_in_principle_critique_iter_",
    final: "principle_final",
    count: "iteration_principle",
    scores: "principles_critique_scores",
  },
  {
    name: "response",
    draft: "init_response",
    critique: "response_critique_iter_",
    refined: "response_refined_iter_",
    error: "error_in_response_critique_iter_",
    final: "response_final",
    count: "iteration_response",
    scores: "response_critique_scores",
  },
];

/** Fields SPRI writes (and their `_prompt` companions): everything else is the input or extra. */
const SPRI_FIELD =
  /^(principle_raw|iteration_principle|principle_final|principles_critique_iter_\d+|principle_refined_iter_\d+|error_in_principle_critique_iter_\d+|principles_critique_final|init_response|response_critique_iter_\d+|response_refined_iter_\d+|error_in_response_critique_iter_\d+|response_final|iteration_response|response_critique_final|principles_critique_scores|response_critique_scores)(_prompt)?$/;

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return undefined;
  return typeof value === "object" ? JSON.stringify(value, null, 2) : String(value);
}

function scoreList(value: unknown): (number | null)[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((v) => (typeof v === "number" && Number.isFinite(v) ? v : null));
}

function intOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function stagesOf(record: ItemRecord): StageView[] {
  const stages: StageView[] = [];
  for (const fields of STAGES) {
    const draft = text(record[fields.draft]);
    if (draft === undefined) continue;
    const scores = scoreList(record[fields.scores]);
    const steps: StageStep[] = [{ kind: "draft", iteration: 0, text: draft }];
    for (let k = 1; k < 1000; k++) {
      const critique = text(record[`${fields.critique}${k}`]);
      if (critique === undefined) break;
      const step: StageStep = { kind: "critique", iteration: k, text: critique };
      if (scores) step.score = scores[k - 1] ?? null;
      const error = text(record[`${fields.error}${k}`]);
      if (error !== undefined) step.error = error;
      steps.push(step);
      const refined = text(record[`${fields.refined}${k}`]);
      if (refined !== undefined) steps.push({ kind: "refined", iteration: k, text: refined });
    }
    const stage: StageView = { name: fields.name, steps };
    const final = text(record[fields.final]);
    if (final !== undefined) stage.final = final;
    const iterations = intOf(record[fields.count]);
    if (iterations !== undefined) stage.iterations = iterations;
    if (scores) stage.scores = scores;
    stages.push(stage);
  }
  return stages;
}

/** The input's fields (those before the first SPRI field, as records are laid out) and the rest. */
export function splitFields(record: ItemRecord): { input: Record<string, unknown>; other: Record<string, unknown> } {
  const input: Record<string, unknown> = {};
  const other: Record<string, unknown> = {};
  let seenSpri = false;
  for (const [name, value] of Object.entries(record)) {
    if (SPRI_FIELD.test(name)) {
      seenSpri = true;
      continue;
    }
    if (name.endsWith("_prompt")) continue;
    (seenSpri ? other : input)[name] = value;
  }
  return { input, other };
}

export function questionOf(record: ItemRecord): string | undefined {
  for (const name of ANY_QUESTION_FIELDS) {
    const value = record[name];
    if (typeof value === "string" && value.trim() !== "") return value;
  }
  const { input } = splitFields(record);
  for (const [name, value] of Object.entries(input)) {
    if (name !== "id" && typeof value === "string" && value.trim() !== "") return value;
  }
  return undefined;
}

export function itemSummary(item: ItemState): ItemSummary {
  const summary: ItemSummary = { itemId: item.itemId, status: item.status, attempts: item.attempts, updatedAt: item.updatedAt };
  if (item.reason !== undefined) summary.reason = item.reason;
  const record = item.record;
  if (!record) return summary;
  const question = questionOf(record);
  if (question !== undefined) summary.question = question.length > 200 ? `${question.slice(0, 199)}…` : question;
  const pi = intOf(record.iteration_principle);
  if (pi !== undefined) summary.principleIterations = pi;
  const ri = intOf(record.iteration_response);
  if (ri !== undefined) summary.responseIterations = ri;
  const ps = scoreList(record.principles_critique_scores);
  if (ps) summary.principleScores = ps;
  const rs = scoreList(record.response_critique_scores);
  if (rs) summary.responseScores = rs;
  const usage = record.spri_usage as Record<string, unknown> | undefined;
  if (usage && typeof usage === "object") {
    const calls = intOf(usage.calls);
    if (calls !== undefined) summary.calls = calls;
    if (usage.cost_usd === null || typeof usage.cost_usd === "number") summary.costUsd = usage.cost_usd;
  }
  return summary;
}

export function itemDetail(item: ItemState): ItemDetailResponse {
  const detail: ItemDetailResponse = {
    runId: item.runId,
    itemId: item.itemId,
    status: item.status,
    attempts: item.attempts,
    updatedAt: item.updatedAt,
    input: {},
    stages: [],
    other: {},
  };
  if (item.reason !== undefined) detail.reason = item.reason;
  if (item.record) {
    const { input, other } = splitFields(item.record);
    detail.input = input;
    detail.other = other;
    detail.stages = stagesOf(item.record);
    detail.record = item.record;
  }
  return detail;
}
