/**
 * Principle mining, the E-step of STaPLe (Ramji et al. 2025; research/stape-spec.md §2.2), over one
 * (prompt, gold response) example:
 *
 * 1. y1: the model's own answer to the bare prompt (on-policy).
 * 2. N candidate principles z_k, each written WITH the gold shown as a hint (the only step that sees it).
 * 3. For each z_k: a critique c_k of y1 under z_k, then a refined answer y2_k, both WITHOUT the gold.
 * 4. Score f(y1, gold) and f(y2_k, gold); keep the best candidate only if it beats y1 (best-of-N,
 *    hard EM). Otherwise the example yields no trajectory, and the record says why.
 *
 * f is Rouge-L F1 by default. `similarity: "judge"` uses the pairwise judge of `judge/pairwise.ts`
 * instead: y1 (A) against y2_k (B), both orders, with the gold shown in the question text as a
 * reference; f(y2_k) is the judge's preference for y2_k in [0, 1] and f(y1) is the tie point 0.5, so
 * a candidate beats y1 when the judge prefers it on average.
 *
 * Guard against leaking the gold into y2 through z: a principle is rejected (no critique or
 * refinement is asked for it) when it is unparsable, longer than `maxWords` words, shares a run of
 * `leakNgram` or more consecutive words with the gold, or when its Rouge-L precision against the gold
 * (the share of the principle's words that appear, in order, in the gold) is above `leakPrecision`.
 *
 * Posterior regularisation on the refinements (principle-following.ts): a refinement longer than
 * `maxLengthRatio` × the longer of y1 and the gold is rejected before scoring, and with
 * `followCheck` the judge is asked, in score order among the candidates that beat y1, whether the
 * refinement follows its principle; the first that does is accepted (decision `not-following` when
 * none does).
 *
 * Candidates run one after another: identical principle prompts are deliberate repeats, and the
 * call trace numbers them (`sampleIndex`) so a call cache keeps them apart.
 */
import type { ItemAlgorithm, SpriModels } from "../contract/item-algorithm.ts";
import { type CallContext, ModelCaller } from "../contract/model-caller.ts";
import type { TaskItem } from "../contract/task-item.ts";
import { InputError } from "../../base/errors/errors.ts";
import type { CallRecord } from "../../io/records.ts";
import { judgePair } from "../judge/pairwise.ts";
import type { ChatMessage, LanguageModel, SamplingOptions } from "../../models/language-model.ts";
import { DISCOVERY_PROMPTS, fillDiscovery, questionWithReference, REFERENCE_PAIRWISE_PROMPTS } from "../../io/prompts/builtin-discovery.ts";
import { roundScore } from "../../base/util/round-score.ts";
import type { MiningOptions, MiningSampling } from "./mining-options.ts";
import { parsePrinciple, principleRejection, rougeTokens } from "./mined-principle.ts";
import { checkFollows, lengthRejection } from "./principle-following.ts";
import { rougeL } from "./rouge-l.ts";

export interface RougeScores {
  precision: number;
  recall: number;
  f1: number;
}

export interface Candidate {
  /** 1-based candidate number (also the `iteration` of its calls in the trace). */
  k: number;
  /** The principle as parsed and normalised; null when nothing could be read. */
  z: string | null;
  zRaw: string;
  critique: string | null;
  y2: string | null;
  /** f(y2, gold); null for rejected candidates. */
  fY2: number | null;
  /** Rouge-L of y2 against the gold (recorded in judge mode too). */
  rougeL: RougeScores | null;
  /** The principle-following check's verdict (null: unreadable), when it was asked. */
  follows?: boolean | null;
  /** Judge mode: which response each order preferred. */
  judge?: { aFirst: string | null; bFirst: string | null; preference: number | null };
  /** Why the candidate was dropped before or after refinement. */
  rejectedReason?: string;
}

export interface BestCandidate {
  k: number;
  z: string;
  critique: string;
  y2: string;
  fY2: number;
  gain: number;
}

export type DecisionCode = "accepted" | "no-gain" | "not-following" | "no-valid-candidate" | "gold-unscorable";

/** The fields a mining record adds to its input row (stape-spec §4 `trajectories.jsonl`). */
export interface MiningFields {
  [key: string]: unknown;
  iter?: number;
  gold: string;
  y1: string | null;
  /** `rougeL_f1` or `judge_preference`. */
  f: string;
  fY1: number | null;
  rougeLY1: RougeScores | null;
  candidates: Candidate[];
  accepted: boolean;
  best: BestCandidate | null;
  /** The refined answer of the accepted candidate (top level, for `spri compare --response-field-b y2`). */
  y2: string | null;
  decision: DecisionCode;
  /** Why the example was accepted or not, in words. */
  reason: string;
  policy: { model: string; endpoint: string };
  sampling: MiningSampling;
}

export interface MiningExample {
  id: string;
  prompt: string;
  gold: string;
}

/** Rouge-L of a response against the gold: precision = LCS/|response|, recall = LCS/|gold|. */
export function scores(response: string, gold: string, stem: boolean): RougeScores {
  const s = rougeL(gold, response, { useStemmer: stem });
  return { precision: roundScore(s.precision), recall: roundScore(s.recall), f1: roundScore(s.fmeasure) };
}

function user(content: string): ChatMessage {
  return { role: "user", content };
}

// ---- one example ----------------------------------------------------------------------------

/** The judge similarity: y1 (A) against y2 (B) in both orders, the gold shown as a reference. */
export async function judgeAgainstY1(
  example: MiningExample,
  y1: string,
  y2: string,
  models: MiningModels,
  sampling: SamplingOptions,
  context: CallContext,
): Promise<{ preference: number | null; judge: NonNullable<Candidate["judge"]>; calls: CallRecord[] }> {
  const outcome = await judgePair(
    { id: example.id, question: questionWithReference(example.prompt, example.gold), responseA: y1, responseB: y2 },
    models.judge ?? models.policy,
    { prompts: REFERENCE_PAIRWISE_PROMPTS, sampling },
    context,
  );
  const judge = {
    aFirst: (outcome.fields.pairwise_a_first_verdict as string | null) ?? null,
    bFirst: (outcome.fields.pairwise_b_first_verdict as string | null) ?? null,
    preference: outcome.preference,
  };
  return { preference: outcome.preference, judge, calls: outcome.calls };
}

export interface MiningModels {
  /** The current policy M_t: writes y1, principles, critiques and refinements. */
  policy: LanguageModel;
  /** The judge of `similarity: "judge"` (default: the policy). */
  judge?: LanguageModel;
}

export async function mineExample(
  example: MiningExample,
  models: MiningModels,
  options: MiningOptions,
  context: CallContext,
): Promise<{ fields: MiningFields; calls: CallRecord[] }> {
  const caller = new ModelCaller(context);
  const calls = caller.calls;
  const prompts = { ...DISCOVERY_PROMPTS, ...options.prompts };
  const { sampling, stem } = options;
  const judgeMode = options.similarity === "judge";
  const fields: MiningFields = {
    ...(options.iter === undefined ? {} : { iter: options.iter }),
    gold: example.gold,
    y1: null,
    f: judgeMode ? "judge_preference" : "rougeL_f1",
    fY1: null,
    rougeLY1: null,
    candidates: [],
    accepted: false,
    best: null,
    y2: null,
    decision: "no-valid-candidate",
    reason: "",
    policy: { model: models.policy.modelId, endpoint: models.policy.id },
    sampling,
  };

  const goldTokens = rougeTokens(example.gold).length;
  if (goldTokens < Math.max(1, options.minGoldTokens)) {
    fields.decision = "gold-unscorable";
    fields.reason =
      goldTokens === 0
        ? "the gold has no Rouge-L tokens (empty or non-ASCII text); skipped without a call"
        : `the gold has ${goldTokens} Rouge-L tokens, fewer than --min-gold-tokens ${options.minGoldTokens}; skipped without a call`;
    return { fields, calls };
  }

  const call = async (step: string, k: number, messages: ChatMessage[], s: SamplingOptions): Promise<string> => {
    const { raw } = await caller.call({ model: models.policy, role: "base", step, iteration: k, messages, sampling: s });
    return raw.trim();
  };

  const y1 = await call("discovery.answer", 0, [user(example.prompt)], sampling.answer);
  fields.y1 = y1;
  fields.rougeLY1 = scores(y1, example.gold, stem);
  fields.fY1 = judgeMode ? 0.5 : fields.rougeLY1.f1;

  for (let k = 1; k <= options.candidates; k++) {
    const zRaw = await call(
      "discovery.principle",
      k,
      [user(fillDiscovery(prompts.principle, { prompt: example.prompt, response: y1, gold: example.gold }))],
      sampling.principle,
    );
    const candidate: Candidate = { k, z: parsePrinciple(zRaw), zRaw, critique: null, y2: null, fY2: null, rougeL: null };
    fields.candidates.push(candidate);
    if (candidate.z === null) {
      candidate.rejectedReason = "no principle in the answer";
      continue;
    }
    const rejection = principleRejection(candidate.z, example.gold, options.guard, stem);
    if (rejection) {
      candidate.rejectedReason = rejection;
      continue;
    }
    const base = { prompt: example.prompt, response: y1, principle: candidate.z };
    candidate.critique = await call("discovery.critique", k, [user(fillDiscovery(prompts.critique, base))], sampling.critique);
    const y2 = await call(
      "discovery.refine",
      k,
      [user(fillDiscovery(prompts.refine, { ...base, critique: candidate.critique }))],
      sampling.refine,
    );
    candidate.y2 = y2;
    if (y2 === "") {
      candidate.rejectedReason = "empty refinement";
      continue;
    }
    const tooLong = lengthRejection(y2, y1, example.gold, options.maxLengthRatio);
    if (tooLong) {
      candidate.rejectedReason = tooLong;
      continue;
    }
    candidate.rougeL = scores(y2, example.gold, stem);
    if (!judgeMode) {
      candidate.fY2 = candidate.rougeL.f1;
      continue;
    }
    const outcome = await judgeAgainstY1(example, y1, y2, models, sampling.judge, context);
    calls.push(...outcome.calls);
    candidate.judge = outcome.judge;
    if (outcome.preference === null) candidate.rejectedReason = "the judge gave no readable verdict";
    else candidate.fY2 = outcome.preference;
  }

  const scored = fields.candidates.filter((c): c is Candidate & { z: string; critique: string; y2: string; fY2: number } => c.fY2 !== null);
  if (scored.length === 0) {
    fields.decision = "no-valid-candidate";
    fields.reason = `none of the ${options.candidates} candidates survived the guard and refinement`;
    return { fields, calls };
  }
  // Best-of-N; the earliest candidate wins ties.
  const ranked = [...scored].sort((a, b) => b.fY2 - a.fY2 || a.k - b.k);
  const top = ranked[0]!;
  const above = ranked.filter((c) => roundScore(c.fY2 - fields.fY1!) > options.minGain);
  if (above.length === 0) {
    fields.decision = "no-gain";
    fields.reason = `the best candidate (${top.k}) scores ${top.fY2}, not above y1's ${fields.fY1}${options.minGain > 0 ? ` + ${options.minGain}` : ""} (${fields.f})`;
    return { fields, calls };
  }
  let chosen: (typeof above)[number] | undefined = above[0];
  if (options.followCheck) {
    chosen = undefined;
    for (const candidate of above) {
      const check = await checkFollows(
        caller,
        models.judge ?? models.policy,
        { prompt: example.prompt, principle: candidate.z, response: y1, revised: candidate.y2 },
        { step: "discovery.follows", iteration: candidate.k, sampling: sampling.follows, template: prompts.follows },
      );
      candidate.follows = check.follows;
      if (check.follows === true) {
        chosen = candidate;
        break;
      }
      candidate.rejectedReason =
        check.follows === false ? "the refinement does not follow its principle (judge)" : "the judge gave no readable following verdict";
    }
  }
  if (chosen === undefined) {
    fields.decision = "not-following";
    fields.reason = `${above.length} candidate(s) beat y1 but none follows its principle (judge)`;
    return { fields, calls };
  }
  const gain = roundScore(chosen.fY2 - fields.fY1);
  fields.accepted = true;
  fields.best = { k: chosen.k, z: chosen.z, critique: chosen.critique, y2: chosen.y2, fY2: chosen.fY2, gain };
  fields.y2 = chosen.y2;
  fields.decision = "accepted";
  fields.reason = `candidate ${chosen.k} scores ${chosen.fY2} against y1's ${fields.fY1} (${fields.f})${options.followCheck ? " and follows its principle" : ""}`;
  return { fields, calls };
}

// ---- as a runner algorithm ------------------------------------------------------------------

/** The gold of an input row, or an InputError naming the field. */
export function goldOf(item: TaskItem, goldField: string): string {
  const value = item.row[goldField];
  if (typeof value !== "string" || value.trim() === "") {
    throw new InputError("the gold response is missing or empty", {
      field: goldField,
      hint: "name the field holding the gold response with --gold-field",
    });
  }
  return value;
}

export function miningAlgorithm(options: MiningOptions): ItemAlgorithm {
  const perCandidate = (options.similarity === "judge" ? 5 : 3) + (options.followCheck ? 1 : 0);
  return {
    name: `discovery/mine-${options.similarity}`,
    calls: {
      min: 1,
      expected: 1 + (perCandidate - (options.followCheck ? 1 : 0)) * options.candidates + (options.followCheck ? 1 : 0),
      max: 1 + perCandidate * options.candidates,
      criticShare: (options.similarity === "judge" ? 2 : 0) / (3 + (options.similarity === "judge" ? 2 : 0)),
    },
    async run(item, models: SpriModels, context) {
      const gold = goldOf(item, options.goldField);
      const { fields, calls } = await mineExample(
        { id: item.id, prompt: item.question, gold },
        { policy: models.base, judge: models.critic },
        options,
        context,
      );
      return { fields, calls };
    },
  };
}
