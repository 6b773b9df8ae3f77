/**
 * The formats of `spri discover export` (one example per accepted record): `trl` (TRL conversational
 * prompt-completion, loss on the completion only, so y1 is masked), `openai` (chat fine-tuning
 * messages, y1 with weight 0), `alpaca` (TRL standard prompt-completion text in the Alpaca template, for
 * base models without a chat template) and `star` (the STaR baseline: refinements without principles).
 */
import { InputError } from "../../base/errors/errors.ts";
import type { ParquetColumn } from "../../io/parquet.ts";

export type DiscoveryExportFormat = "trl" | "openai" | "alpaca" | "star";
export const DISCOVERY_EXPORT_FORMATS: readonly DiscoveryExportFormat[] = ["trl", "openai", "alpaca", "star"];

export function parseDiscoveryExportFormat(value: string): DiscoveryExportFormat {
  if ((DISCOVERY_EXPORT_FORMATS as readonly string[]).includes(value)) return value as DiscoveryExportFormat;
  throw new InputError(`unknown export format "${value}"`, { field: "format", hint: `use one of ${DISCOVERY_EXPORT_FORMATS.join(", ")}` });
}

/** What the card says of a format, the trainer's name for it, and its Parquet columns (none: JSON Lines only). */
export interface TrainingFormat {
  description: string;
  schema: string[];
  trainFormat: string;
  columns?: ParquetColumn[];
}

/** TRL's conversational prompt-completion as Parquet: prompt and completion, each a list of messages. */
const CONVERSATIONAL_COLUMNS: ParquetColumn[] = [
  { name: "prompt", kind: "struct-list", fields: ["role", "content"] },
  { name: "completion", kind: "struct-list", fields: ["role", "content"] },
];

export const TRAINING_FORMATS: Readonly<Record<DiscoveryExportFormat, TrainingFormat>> = {
  trl: {
    description:
      "TRL conversational prompt-completion: the prompt holds the request, the model's first answer and the self-correction request; the completion holds the principle, critique and refined answer (loss on the completion only).",
    schema: [
      "`prompt` (list of {`role`, `content`}): user request, assistant first answer (y1, not trained on), user self-correction request",
      "`completion` (list of {`role`, `content`}): one assistant message, `[Principle] …`, `[Critique] …`, `[Revised response]` and the refined answer",
    ],
    trainFormat: "trl.conversational.prompt_completion",
    columns: CONVERSATIONAL_COLUMNS,
  },
  openai: {
    description:
      "OpenAI chat fine-tuning messages with weights: the first answer (y1) has weight 0 and is not trained on; the self-correction has weight 1.",
    schema: [
      "`messages` (list of {`role`, `content`, `weight`?}): user request, assistant y1 (`weight` 0), user self-correction request, assistant self-correction (`weight` 1)",
    ],
    trainFormat: "openai.chat.weighted",
  },
  alpaca: {
    description:
      "TRL standard prompt-completion text in the Alpaca template, for base models without a chat template: the prompt holds the request, the model's first answer and the self-correction request as Alpaca turns; the completion is the target (loss on the completion only).",
    schema: [
      "`prompt` (string): the Alpaca preamble, `### Instruction:` x, `### Response:` y1 (not trained on), `### Instruction:` the self-correction request, `### Response:`",
      "`completion` (string): `[Principle] …`, `[Critique] …`, `[Revised response]` and the refined answer",
    ],
    trainFormat: "trl.standard.prompt_completion",
    columns: [
      { name: "prompt", kind: "string" },
      { name: "completion", kind: "string" },
    ],
  },
  star: {
    description: "STaR baseline, TRL conversational prompt-completion: the request and the refined answer, without principle or critique.",
    schema: [
      "`prompt` (list of {`role`, `content`}): the user request",
      "`completion` (list of {`role`, `content`}): the refined answer (y2)",
    ],
    trainFormat: "trl.conversational.prompt_completion",
    columns: CONVERSATIONAL_COLUMNS,
  },
};
