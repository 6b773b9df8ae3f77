/**
 * IFEval's verifiable instructions (Zhou et al. 2023) as principles a judge can check: STaPLe reports a
 * principle-following win rate on IFEval's prompts, each pair judged with fine-grained rubrics built
 * from what the prompt asks. The paper's rubric text is not published, so these phrasings are ours: one
 * principle per instruction id of `input_data.jsonl`, its arguments (`kwargs`) filled in.
 */
import type { PairwisePrompts } from "./pairwise.ts";

type Args = Readonly<Record<string, unknown>>;

const PHRASES: Readonly<Record<string, (a: Args) => string>> = {
  "change_case:capital_word_frequency": (a) => `Write ${a.capital_relation} ${a.capital_frequency} words entirely in capital letters.`,
  "change_case:english_capital": () => "Write the whole response in English and in capital letters only.",
  "change_case:english_lowercase": () => "Write the whole response in English and in lowercase letters only.",
  "combination:repeat_prompt": (a) => `Repeat this request word for word before answering it: "${a.prompt_to_repeat}"`,
  "combination:two_responses": () => "Give two different responses, separated by six asterisks (******).",
  "detectable_content:number_placeholders": (a) =>
    `Include at least ${a.num_placeholders} placeholders in square brackets, e.g. [address].`,
  "detectable_content:postscript": (a) => `End with a postscript that starts with ${a.postscript_marker}`,
  "detectable_format:constrained_response": () => "Answer with one of the options the prompt gives, exactly as written.",
  "detectable_format:json_format": () => "Wrap the entire response in valid JSON.",
  "detectable_format:multiple_sections": (a) =>
    `Split the response into ${a.num_sections} sections, each starting with "${a.section_spliter} X".`,
  "detectable_format:number_bullet_lists": (a) => `Use exactly ${a.num_bullets} markdown bullet points.`,
  "detectable_format:number_highlighted_sections": (a) =>
    `Highlight at least ${a.num_highlights} sections with markdown, e.g. *highlighted section*.`,
  "detectable_format:title": () => "Give the response a title wrapped in double angular brackets, e.g. <<title>>.",
  "keywords:existence": (a) => `Include the keywords ${list(a.keywords)}.`,
  "keywords:forbidden_words": (a) => `Do not use the words ${list(a.forbidden_words)}.`,
  "keywords:frequency": (a) => `Use the word "${a.keyword}" ${a.relation} ${a.frequency} times.`,
  "keywords:letter_frequency": (a) => `Use the letter "${a.letter}" ${a.let_relation} ${a.let_frequency} times.`,
  "language:response_language": (a) => `Write the whole response in the language whose code is "${a.language}", and no other.`,
  "length_constraints:nth_paragraph_first_word": (a) =>
    `Write ${a.num_paragraphs} paragraphs separated by blank lines; paragraph ${a.nth_paragraph} starts with the word "${a.first_word}".`,
  "length_constraints:number_paragraphs": (a) => `Write exactly ${a.num_paragraphs} paragraphs, separated by the markdown divider ***.`,
  "length_constraints:number_sentences": (a) => `Use ${a.relation} ${a.num_sentences} sentences.`,
  "length_constraints:number_words": (a) => `Use ${a.relation} ${a.num_words} words.`,
  "punctuation:no_comma": () => "Use no commas anywhere in the response.",
  "startend:end_checker": (a) => `End the response with the exact phrase "${a.end_phrase}", with nothing after it.`,
  "startend:quotation": () => "Wrap the entire response in double quotation marks.",
};

function list(value: unknown): string {
  return Array.isArray(value) ? value.map((v) => `"${String(v)}"`).join(", ") : `"${String(value)}"`;
}

/** One principle per instruction; an unknown id is named with its (non-null) arguments. */
export function ifevalPrinciples(instructionIds: readonly string[], kwargs: readonly Args[]): string[] {
  return instructionIds.map((id, i) => {
    const args = Object.fromEntries(Object.entries(kwargs[i] ?? {}).filter(([, v]) => v !== null && v !== undefined));
    const phrase = PHRASES[id];
    if (phrase) return phrase(args);
    const shown = Object.entries(args).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    return `Follow the instruction ${id}${shown.length ? ` (${shown.join(", ")})` : ""}.`;
  });
}

/** The question the judge sees: the prompt, then its principles, numbered. */
export function principledQuestion(prompt: string, principles: readonly string[]): string {
  return `${prompt}\n\n[Principles the response must follow]\n${principles.map((p, i) => `${i + 1}. ${p}`).join("\n")}`;
}

/** Our own judge prompt for principle following, in the pairwise `[[A]]` / `[[B]]` / `[[C]]` form. */
export const PRINCIPLE_PAIRWISE_PROMPTS: PairwisePrompts = {
  system:
    "You compare two AI assistants' responses to one user request. The request is followed by the principles a response must follow. Decide which response follows those principles more fully, checking each one in turn; only where they follow them equally well, prefer the more helpful response. The order of the responses and their length do not matter. Explain briefly, then give your verdict on the last line as [[A]] if Response A is better, [[B]] if Response B is better, or [[C]] for a tie.",
  user: "[User request]\n{question}\n\n[Response A]\n{response_a}\n\n[Response B]\n{response_b}",
};
