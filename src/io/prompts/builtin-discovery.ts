/**
 * Our own prompts for latent principle discovery (STaPLe, Ramji et al. 2025): the paper's appendix
 * prompts were not available (research/stape-spec.md §3), so these are written from the method's
 * description. Placeholders are `{name}`, filled by `fillDiscovery` (no Python format semantics:
 * braces in the filled-in texts are left alone).
 *
 * - `answer`: y1 is the model's own answer to the bare prompt (on-policy), so it has no template.
 * - `principle`: sees the gold response as a hint; the only prompt that does.
 * - `critique`, `refine`: never see the gold, so the refinement cannot copy it.
 * - `selfCorrectTrigger`: the user turn after y1 in the SFT exports, and the question asked of a
 *   trained model at inference (`spri discover apply --mode trained`).
 * - `select`: prompt-time self-correction with a constitution (untrained models).
 * - `judge`: the LLM-judge similarity (y2 against y1, with the gold as a reference).
 * - `follows`: posterior regularisation's check that a refinement follows the principle it was
 *   written under (no gold shown).
 */
export const DISCOVERY_PROMPTS = {
  principle: `Request:
{prompt}

Your earlier response:
{response}

A reference response judged better:
{gold}

Name the single most important principle your response should follow to become more like the reference. Write it as a general, reusable guideline (a short title, a colon, one sentence) that would apply to other requests too. Do not mention the reference and do not copy its facts or wording.
Answer exactly as: Principle: <title>: <sentence>`,

  critique: `Request:
{prompt}

Response:
{response}

Principle:
{principle}

List at most 5 concrete ways the response falls short of this principle. Be brief and specific; do not rewrite the response.`,

  refine: `Request:
{prompt}

Response:
{response}

Principle:
{principle}

Critique:
{critique}

Rewrite the response so it follows the principle and fixes the critique. Output only the revised response.`,

  selfCorrectTrigger: "Improve your response using a guiding principle.",

  follows: `Request:
{prompt}

Principle:
{principle}

First response:
{response}

Revised response:
{revised}

Does the revised response follow the principle, at least as well as the first response does and better where the first falls short? Think briefly, then answer on the last line exactly as:
Follows: <yes or no>`,

  select: `Request:
{prompt}

Response:
{response}

Principles:
{principles}

Pick the one principle above that matters most for improving this response to this request. Then decide whether the response already follows it well (no revision needed) or falls short of it (revise).
Answer on two lines, exactly as:
Principle: <number of the principle, or none if no principle is relevant>
Revise: <yes or no>`,
} as const;

export type DiscoveryPromptName = keyof typeof DISCOVERY_PROMPTS;

/** Replaces `{name}` placeholders in one pass, so a filled-in text is never filled again. */
export function fillDiscovery(template: string, fields: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => (name in fields ? fields[name]! : whole));
}

/** The SFT target and the trained model's answer: stable delimiters, parsed by `parseSelfCorrection`. */
export const TARGET_MARKERS = { principle: "[Principle]", critique: "[Critique]", revised: "[Revised response]" } as const;

/**
 * The judge of `--similarity judge`, for `judgePair`: the question text carries the request and the
 * gold response, so the verdict says which response is closer in substance to the gold.
 */
export const REFERENCE_PAIRWISE_PROMPTS: { readonly system: string; readonly user: string } = {
  system:
    "You compare two AI assistants' responses to the same user request against a reference response that is known to be good. Decide which response is closer to the reference in what it says and how well it serves the user: content, correctness, completeness and form. Do not reward copying of wording for its own sake, and judge the content, not the length or the order in which the responses appear. Explain your reasoning briefly, then give your verdict on the last line as [[A]] if Response A is better, [[B]] if Response B is better, or [[C]] for a tie.",
  user: "[User question]\n{question}\n\n[Response A]\n{response_a}\n\n[Response B]\n{response_b}",
};

/** The question text of a reference-guided pairwise judgement. */
export function questionWithReference(prompt: string, gold: string): string {
  return `${prompt}\n\n[Reference response]\n${gold}`;
}
