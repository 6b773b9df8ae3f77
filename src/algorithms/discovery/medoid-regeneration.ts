/**
 * Label replacement with regeneration (stape-spec §2.3 step 5, the `regenerate` mode): after
 * clustering, an accepted trajectory's principle z is replaced by its cluster's medoid (`zCanonical`
 * of the labelled copy `spri discover cluster` writes), and y2 is written again under the medoid,
 * so the SFT target's principle and refinement agree. The critique and the refinement use the
 * mining prompts without the gold; the new y2 must pass the same posterior regularisation as
 * mining (length budget, the following check when enabled) and still beat y1 under the same
 * scorer, or the example is dropped from training (`accepted: false`).
 *
 * Records that were not accepted, carry no `zCanonical`, or whose principle is already the medoid
 * are passed through without a call. The trajectory before regeneration is kept in
 * `medoidRegeneration.before`.
 */
import type { ItemAlgorithm, SpriModels } from "../contract/item-algorithm.ts";
import { type CallContext, ModelCaller } from "../contract/model-caller.ts";
import type { CallRecord } from "../../io/records.ts";
import type { ChatMessage } from "../../models/language-model.ts";
import { DISCOVERY_PROMPTS, fillDiscovery } from "../../io/prompts/builtin-discovery.ts";
import { roundScore } from "../../base/util/round-score.ts";
import type { MiningOptions } from "./mining-options.ts";
import { type BestCandidate, goldOf, judgeAgainstY1, type MiningModels, scores } from "./mining.ts";
import { checkFollows, lengthRejection } from "./principle-following.ts";
import { principleKey } from "./principle-set.ts";

export type RegenerationStatus = "regenerated" | "dropped" | "kept" | "skipped";

export interface RegenerationReport {
  status: RegenerationStatus;
  reason: string;
  /** The accepted trajectory under its own principle, when it was regenerated or dropped. */
  before?: BestCandidate;
}

interface Trajectory {
  id: string;
  prompt: string;
  gold: string;
  y1: string;
  best: BestCandidate;
  medoid: string;
}

function user(content: string): ChatMessage {
  return { role: "user", content };
}

/** Why a row is passed through untouched, or undefined when it is to be regenerated. */
function passThrough(row: Record<string, unknown>): RegenerationReport | undefined {
  const best = row.best as BestCandidate | null | undefined;
  if (row.accepted !== true || !best || typeof best.z !== "string") return { status: "skipped", reason: "not an accepted trajectory" };
  if (typeof row.zCanonical !== "string" || row.zCanonical.trim() === "")
    return { status: "skipped", reason: "no zCanonical (run spri discover cluster and use its labelled copy)" };
  if (typeof row.y1 !== "string") return { status: "skipped", reason: "no y1" };
  if (principleKey(row.zCanonical) === principleKey(best.z)) return { status: "kept", reason: "the principle is its cluster's medoid" };
  return undefined;
}

/** y2 regenerated under the medoid, scored and checked; the record's new accepted/best/y2/decision fields. */
export async function regenerateUnderMedoid(
  trajectory: Trajectory,
  models: MiningModels,
  options: MiningOptions,
  context: CallContext,
): Promise<{ fields: Record<string, unknown>; calls: CallRecord[] }> {
  const caller = new ModelCaller(context);
  const calls = caller.calls;
  const prompts = { ...DISCOVERY_PROMPTS, ...options.prompts };
  const { y1, gold, medoid, best: before } = trajectory;
  const call = async (step: string, template: string, fields: Record<string, string>, sampling: MiningOptions["sampling"]["refine"]) =>
    (
      await caller.call({
        model: models.policy,
        role: "base",
        step,
        iteration: before.k,
        messages: [user(fillDiscovery(template, fields))],
        sampling,
      })
    ).raw.trim();

  const base = { prompt: trajectory.prompt, response: y1, principle: medoid };
  const critique = await call("discovery.medoid-critique", prompts.critique, base, options.sampling.critique);
  const y2 = await call("discovery.medoid-refine", prompts.refine, { ...base, critique }, options.sampling.refine);
  const drop = (decision: string, reason: string) => ({
    fields: {
      accepted: false,
      best: null,
      y2: null,
      decision,
      reason,
      medoidRegeneration: { status: "dropped", reason, before, y2: y2 === "" ? null : y2 } satisfies RegenerationReport & {
        y2: string | null;
      },
    },
    calls,
  });
  if (y2 === "") return drop("medoid-no-gain", "the refinement under the medoid was empty");
  const tooLong = lengthRejection(y2, y1, gold, options.maxLengthRatio);
  if (tooLong) return drop("medoid-no-gain", `the refinement under the medoid is ${tooLong}`);

  const judged = options.similarity === "judge";
  const fY1 = judged ? 0.5 : scores(y1, gold, options.stem).f1;
  let fY2 = scores(y2, gold, options.stem).f1;
  if (judged) {
    const outcome = await judgeAgainstY1(
      { id: trajectory.id, prompt: trajectory.prompt, gold },
      y1,
      y2,
      models,
      options.sampling.judge,
      context,
    );
    calls.push(...outcome.calls);
    if (outcome.preference === null) return drop("medoid-no-gain", "the judge gave no readable verdict on the refinement under the medoid");
    fY2 = outcome.preference;
  }
  const gain = roundScore(fY2 - fY1);
  if (!(gain > options.minGain)) return drop("medoid-no-gain", `under the medoid y2 scores ${fY2}, not above y1's ${fY1}`);
  if (options.followCheck) {
    const check = await checkFollows(
      caller,
      models.judge ?? models.policy,
      { prompt: trajectory.prompt, principle: medoid, response: y1, revised: y2 },
      { step: "discovery.medoid-follows", iteration: before.k, sampling: options.sampling.follows, template: prompts.follows },
    );
    if (check.follows !== true) return drop("not-following", "the refinement under the medoid does not follow it (judge)");
  }
  const reason = `regenerated under the medoid: y2 scores ${fY2} against y1's ${fY1}`;
  return {
    fields: {
      accepted: true,
      best: { k: before.k, z: medoid, critique, y2, fY2, gain } satisfies BestCandidate,
      y2,
      decision: "accepted",
      reason,
      medoidRegeneration: { status: "regenerated", reason, before } satisfies RegenerationReport,
    },
    calls,
  };
}

/** The runner algorithm over the labelled copy of mined records (`spri discover regenerate`). */
export function medoidRegenerationAlgorithm(options: MiningOptions): ItemAlgorithm {
  const judge = options.similarity === "judge" ? 2 : 0;
  const follows = options.followCheck ? 1 : 0;
  return {
    name: `discovery/regenerate-${options.similarity}`,
    calls: { min: 0, expected: 2 + judge + follows, max: 2 + judge + follows, criticShare: (judge + follows) / (2 + judge + follows) },
    async run(item, models: SpriModels, context) {
      const row = item.row;
      const untouched = passThrough(row);
      if (untouched) return { fields: { accepted: row.accepted, best: row.best, medoidRegeneration: untouched }, calls: [] };
      const trajectory: Trajectory = {
        id: item.id,
        prompt: item.question,
        gold: goldOf(item, options.goldField),
        y1: row.y1 as string,
        best: row.best as BestCandidate,
        medoid: row.zCanonical as string,
      };
      return regenerateUnderMedoid(trajectory, { policy: models.base, judge: models.critic }, options, context);
    },
  };
}
