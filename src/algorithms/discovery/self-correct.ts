/**
 * Self-correction at inference (stape-spec §2.6), per item, as a runner algorithm:
 *
 * - `constitution` mode, for untrained models: answer (y1), then the model picks the one principle of
 *   the constitution that matters most for this response and says whether the response falls short
 *   of it; if it does, a critique and a refinement under that principle (the mining prompts, with no
 *   gold) give y2. The record says which principle was picked and whether it was applied.
 * - `trained` mode, for a model trained on `spri discover export` data: answer (y1), then ask the
 *   SFT trigger after it; the model either writes `[Principle] … [Revised response] …` (applied) or
 *   anything else (it judged y1 good enough; y1 stands).
 *
 * y1 is the row's own response when `responseField` names one (no answer call), else generated.
 * Records carry `init_response` (y1) and `response_final` (y2 when applied, else y1), so `spri compare`
 * and `spri export --format preference` read them as they read SPRI records.
 */
import type { ItemAlgorithm } from "../contract/item-algorithm.ts";
import { type CallContext, ModelCaller } from "../contract/model-caller.ts";
import { InputError } from "../../base/errors/errors.ts";
import type { CallRecord } from "../../io/records.ts";
import type { ChatMessage, LanguageModel, SamplingOptions } from "../../models/language-model.ts";
import { DISCOVERY_PROMPTS, fillDiscovery } from "../../io/prompts/builtin-discovery.ts";
import type { ConstitutionLike } from "./label-map.ts";
import { parseSelfCorrection } from "./self-correction-target.ts";

export type SelfCorrectMode = "constitution" | "trained";
export const SELF_CORRECT_MODES: readonly SelfCorrectMode[] = ["constitution", "trained"];

export interface SelfCorrectSampling {
  answer: SamplingOptions;
  select: SamplingOptions;
  critique: SamplingOptions;
  refine: SamplingOptions;
}

export const DEFAULT_SELF_CORRECT_SAMPLING: Readonly<SelfCorrectSampling> = Object.freeze({
  answer: { temperature: 0.7, topP: 0.95, maxTokens: 1024 },
  select: { temperature: 0, maxTokens: 64 },
  critique: { temperature: 0.7, topP: 0.95, maxTokens: 384 },
  refine: { temperature: 0.7, topP: 0.95, maxTokens: 1536 },
});

export interface SelfCorrectOptions {
  mode: SelfCorrectMode;
  /** Constitution mode: the principles to choose from. */
  constitution?: ConstitutionLike;
  /** Constitution mode: show at most this many principles (the largest clusters, in file order). */
  maxPrinciples?: number;
  /** The row field holding an existing first response (default: generate it). */
  responseField?: string;
  sampling: SelfCorrectSampling;
  /** Trained mode: the user turn after y1 (default: the SFT exports' trigger). */
  trigger?: string;
}

export interface Selection {
  /** 1-based number of the picked principle; null for none or unreadable. */
  index: number | null;
  revise: boolean | null;
}

/** Reads `Principle: <n|none>` and `Revise: <yes|no>`; missing parts are null. */
export function parseSelection(text: string): Selection {
  const principle = /principle\s*(?:number)?\s*[:#]?\s*\**\s*(none|\d+)/i.exec(text)?.[1];
  const revise = /revise\s*[:?]?\s*\**\s*(yes|no)\b/i.exec(text)?.[1];
  return {
    index: principle === undefined || /none/i.test(principle) ? null : Number(principle),
    revise: revise === undefined ? null : revise.toLowerCase() === "yes",
  };
}

interface Principle {
  id: string;
  text: string;
}

/** The principles shown to the model, numbered 1..n: all of them, or the `max` largest in file order. */
export function shownPrinciples(constitution: ConstitutionLike, max?: number): Principle[] {
  const all = constitution.principles.map((p, order) => ({
    id: String(p.id),
    text: p.text,
    order,
    size: Number((p as { size?: unknown }).size ?? 0),
  }));
  const kept =
    max === undefined || max >= all.length
      ? all
      : [...all]
          .sort((a, b) => b.size - a.size || a.order - b.order)
          .slice(0, max)
          .sort((a, b) => a.order - b.order);
  return kept.map(({ id, text }) => ({ id, text }));
}

function user(content: string): ChatMessage {
  return { role: "user", content };
}

export interface SelfCorrectFields {
  [key: string]: unknown;
  init_response: string;
  response_final: string;
  self_correct_mode: SelfCorrectMode;
  self_correct_applied: boolean;
  self_correct_principle_id: string | null;
  self_correct_principle: string | null;
  self_correct_critique: string | null;
  self_correct_reason: string;
  /** The selection answer (constitution mode) or the self-correction turn (trained mode). */
  self_correct_raw: string | null;
}

export async function selfCorrect(
  item: { id: string; question: string; row: Record<string, unknown> },
  model: LanguageModel,
  options: SelfCorrectOptions,
  context: CallContext,
): Promise<{ fields: SelfCorrectFields; calls: CallRecord[] }> {
  const caller = new ModelCaller(context);
  const calls = caller.calls;
  const call = async (step: string, messages: ChatMessage[], sampling: SamplingOptions): Promise<string> => {
    const { raw } = await caller.call({ model, role: "base", step, iteration: 0, messages, sampling });
    return raw.trim();
  };
  let y1: string;
  if (options.responseField !== undefined) {
    const value = item.row[options.responseField];
    if (typeof value !== "string" || value.trim() === "") {
      throw new InputError("the first response is missing or empty", {
        field: options.responseField,
        hint: "fill it in, or leave out --response-field to generate it",
      });
    }
    y1 = value;
  } else {
    y1 = await call("self-correct.answer", [user(item.question)], options.sampling.answer);
  }
  const fields: SelfCorrectFields = {
    init_response: y1,
    response_final: y1,
    self_correct_mode: options.mode,
    self_correct_applied: false,
    self_correct_principle_id: null,
    self_correct_principle: null,
    self_correct_critique: null,
    self_correct_reason: "",
    self_correct_raw: null,
  };

  if (options.mode === "trained") {
    const trigger = options.trigger ?? DISCOVERY_PROMPTS.selfCorrectTrigger;
    const raw = await call(
      "self-correct.trained",
      [user(item.question), { role: "assistant", content: y1 }, user(trigger)],
      options.sampling.refine,
    );
    fields.self_correct_raw = raw;
    const parsed = parseSelfCorrection(raw);
    if (parsed === null) {
      fields.self_correct_reason = "the model wrote no [Revised response] block: the first answer stands";
      return { fields, calls };
    }
    fields.self_correct_applied = true;
    fields.self_correct_principle = parsed.principle || null;
    fields.self_correct_critique = parsed.critique ?? null;
    fields.response_final = parsed.revised;
    fields.self_correct_reason = "the model revised its answer";
    return { fields, calls };
  }

  const principles = shownPrinciples(options.constitution ?? { principles: [] }, options.maxPrinciples);
  if (principles.length === 0)
    throw new InputError("the constitution holds no principles", { hint: "give --constitution a non-empty constitution" });
  const list = principles.map((p, i) => `${i + 1}. ${p.text}`).join("\n");
  const raw = await call(
    "self-correct.select",
    [user(fillDiscovery(DISCOVERY_PROMPTS.select, { prompt: item.question, response: y1, principles: list }))],
    options.sampling.select,
  );
  fields.self_correct_raw = raw;
  const selection = parseSelection(raw);
  if (selection.index === null) {
    fields.self_correct_reason = /none/i.test(raw) ? "no principle is relevant" : "could not read a principle number";
    return { fields, calls };
  }
  const picked = principles[selection.index - 1];
  if (picked === undefined) {
    fields.self_correct_reason = `principle ${selection.index} is not among the ${principles.length} shown`;
    return { fields, calls };
  }
  fields.self_correct_principle_id = picked.id;
  fields.self_correct_principle = picked.text;
  if (selection.revise !== true) {
    fields.self_correct_reason =
      selection.revise === false ? "the response already follows the principle" : "could not read whether to revise";
    return { fields, calls };
  }
  const base = { prompt: item.question, response: y1, principle: picked.text };
  const critique = await call("self-correct.critique", [user(fillDiscovery(DISCOVERY_PROMPTS.critique, base))], options.sampling.critique);
  const y2 = await call(
    "self-correct.refine",
    [user(fillDiscovery(DISCOVERY_PROMPTS.refine, { ...base, critique }))],
    options.sampling.refine,
  );
  fields.self_correct_critique = critique;
  if (y2 === "") {
    fields.self_correct_reason = "the refinement was empty: the first answer stands";
    return { fields, calls };
  }
  fields.self_correct_applied = true;
  fields.response_final = y2;
  fields.self_correct_reason = "revised under the picked principle";
  return { fields, calls };
}

export function selfCorrectAlgorithm(options: SelfCorrectOptions): ItemAlgorithm {
  if (options.mode === "constitution" && (!options.constitution || options.constitution.principles.length === 0)) {
    throw new InputError("constitution mode needs a non-empty constitution", { field: "constitution", hint: "pass --constitution <file>" });
  }
  const answer = options.responseField === undefined ? 1 : 0;
  return {
    name: `discovery/self-correct-${options.mode}`,
    calls:
      options.mode === "trained"
        ? { min: answer + 1, expected: answer + 1, max: answer + 1, criticShare: 0 }
        : { min: answer + 1, expected: answer + 2, max: answer + 3, criticShare: 0 },
    run: (item, models, context) => selfCorrect(item, models.base, options, context),
  };
}
