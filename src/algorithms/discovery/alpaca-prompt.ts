/**
 * The Alpaca prompt template (Stanford Alpaca, no-input variant), which SPRI uses to fine-tune base
 * models that have no chat template. A base model sees the request, its own first answer and the
 * self-correction request as two Alpaca turns, and learns the text after the last `### Response:`.
 * The wording must stay exactly as published: models trained on it expect these bytes.
 */
export const ALPACA_PREAMBLE = "Below is an instruction that describes a task. Write a response that appropriately completes the request.";

/** One instruction turn and the header its response follows. */
function turn(instruction: string): string {
  return `### Instruction:\n${instruction}\n\n### Response:\n`;
}

/** The prompt of an Alpaca example: instruction x answered by y1, then the trigger awaiting its response. */
export function alpacaPrompt(question: string, firstAnswer: string, trigger: string): string {
  return `${ALPACA_PREAMBLE}\n\n${turn(question)}${firstAnswer}\n\n${turn(trigger)}`;
}
