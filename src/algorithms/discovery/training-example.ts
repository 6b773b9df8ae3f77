/**
 * One accepted mining record as one SFT example: given the prompt x and the model's own first answer
 * y1, the target is a principle, a critique and the refined answer; y1 is context, never trained on.
 * A record carrying `zCanonical` (the labelled copy of `spri discover cluster`) trains on that
 * representative; otherwise a label map replaces the principle when one is given.
 */
import { recordQuestion } from "../../io/exports.ts";
import { alpacaPrompt } from "./alpaca-prompt.ts";
import { DISCOVERY_PROMPTS } from "../../io/prompts/builtin-discovery.ts";
import type { LabelMap } from "./label-map.ts";
import type { BestCandidate } from "./mining.ts";
import { formatTarget } from "./self-correction-target.ts";
import type { DiscoveryExportFormat } from "./training-formats.ts";

/** How a principle was replaced: the record's own `zCanonical`, constitution membership, nearest representative. */
export type RelabelKind = "canonical" | "member" | "nearest";

export type TrainingSkipReason = "malformed" | "not-an-object" | "not-accepted" | "no-question" | "incomplete";
export const TRAINING_SKIP_REASONS: Record<TrainingSkipReason, string> = {
  malformed: "malformed JSON line",
  "not-an-object": "record is not a JSON object",
  "not-accepted": "no accepted trajectory",
  "no-question": "no prompt (missing, empty or not a string)",
  incomplete: "accepted but y1 or the best candidate is incomplete",
};

export interface TrainingExampleOptions {
  format: DiscoveryExportFormat;
  questionField?: string;
  /** Put the critique into the target (default true). */
  includeCritique?: boolean;
  /** The user turn after y1 (default DISCOVERY_PROMPTS.selfCorrectTrigger). */
  trigger?: string;
  labels?: LabelMap;
  /** Use a record's `zCanonical` when it has one (default true). */
  useCanonical?: boolean;
}

export type TrainingExampleResult =
  | { example: Record<string, unknown>; relabelled?: RelabelKind; skip?: undefined }
  | { skip: TrainingSkipReason; example?: undefined };

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "";
}

/** One mining record as one SFT example, or why it cannot be one. */
export function toDiscoveryExample(record: unknown, options: TrainingExampleOptions): TrainingExampleResult {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return { skip: "not-an-object" };
  const row = record as Record<string, unknown>;
  if (row.accepted !== true) return { skip: "not-accepted" };
  const question = recordQuestion(row, options.questionField);
  if (question === undefined) return { skip: "no-question" };
  const best = row.best as Partial<BestCandidate> | null | undefined;
  const y1 = row.y1;
  if (!best || !nonEmpty(best.z) || !nonEmpty(best.y2) || !nonEmpty(y1)) return { skip: "incomplete" };
  const user = (content: string) => ({ role: "user", content });
  const assistant = (content: string) => ({ role: "assistant", content });
  if (options.format === "star") return { example: { prompt: [user(question)], completion: [assistant(best.y2)] } };

  let principle = best.z;
  let relabelled: RelabelKind | undefined;
  if (options.useCanonical !== false && nonEmpty(row.zCanonical)) {
    principle = row.zCanonical;
    relabelled = "canonical";
  } else if (options.labels) {
    const label = options.labels.lookup(best.z);
    principle = label.text;
    relabelled = label.how;
  }
  const target = formatTarget({ principle, critique: best.critique, revised: best.y2 }, options.includeCritique ?? true);
  const trigger = options.trigger ?? DISCOVERY_PROMPTS.selfCorrectTrigger;
  if (options.format === "alpaca")
    return { example: { prompt: alpacaPrompt(question, y1, trigger), completion: target }, ...(relabelled ? { relabelled } : {}) };
  const example =
    options.format === "trl"
      ? { prompt: [user(question), assistant(y1), user(trigger)], completion: [assistant(target)] }
      : {
          messages: [
            user(question),
            { role: "assistant", content: y1, weight: 0 },
            user(trigger),
            { role: "assistant", content: target, weight: 1 },
          ],
        };
  return { example, ...(relabelled ? { relabelled } : {}) };
}
