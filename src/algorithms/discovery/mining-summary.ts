/** The summary of a mined records file (`<output>.summary.json` of `spri discover mine`). */
import { roundScore } from "../../base/util/round-score.ts";
import type { BestCandidate, Candidate, DecisionCode } from "./mining.ts";

/** Summary of a mined records file: examples, accepted, decisions, mean gain. */
export interface MiningSummary {
  examples: number;
  accepted: number;
  acceptRate: number;
  decisions: Record<DecisionCode, number>;
  meanGain: number | null;
  candidates: number;
  rejectedCandidates: number;
}

export function summariseMining(records: Iterable<Record<string, unknown>>): MiningSummary {
  const decisions: Record<DecisionCode, number> = {
    accepted: 0,
    "no-gain": 0,
    "not-following": 0,
    "no-valid-candidate": 0,
    "gold-unscorable": 0,
  };
  let examples = 0;
  let gains = 0;
  let candidates = 0;
  let rejected = 0;
  for (const record of records) {
    examples++;
    const decision = record.decision as DecisionCode | undefined;
    if (decision && decision in decisions) decisions[decision]++;
    const best = record.best as BestCandidate | null | undefined;
    if (record.accepted === true && best) gains += best.gain;
    for (const c of (record.candidates as Candidate[] | undefined) ?? []) {
      candidates++;
      if (c.rejectedReason) rejected++;
    }
  }
  return {
    examples,
    accepted: decisions.accepted,
    acceptRate: examples === 0 ? 0 : roundScore(decisions.accepted / examples),
    decisions,
    meanGain: decisions.accepted === 0 ? null : roundScore(gains / decisions.accepted),
    candidates,
    rejectedCandidates: rejected,
  };
}
