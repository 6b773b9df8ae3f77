/**
 * The mining corpora of STaPLe (HH-RLHF, UltraFeedback, TL;DR, HotpotQA), each a layout that turns
 * a row as published into the row `spri discover mine` reads. Reading files and the Hub is the
 * runner's (runner/corpus-file.ts); these are plain functions of one row.
 */
import { HH_RLHF } from "./hh-rlhf.ts";
import { HOTPOTQA } from "./hotpotqa.ts";
import type { CorpusLayout } from "./mining-row.ts";
import { TLDR } from "./tldr.ts";
import { ULTRAFEEDBACK } from "./ultrafeedback.ts";

export type { ChatMessage, CorpusLayout, LayoutOptions, MiningRow, RowOrigin } from "./mining-row.ts";

const LAYOUTS = { "hh-rlhf": HH_RLHF, ultrafeedback: ULTRAFEEDBACK, tldr: TLDR, hotpotqa: HOTPOTQA } as const;

export type CorpusName = keyof typeof LAYOUTS;
export const CORPUS_NAMES = Object.keys(LAYOUTS) as readonly CorpusName[];

export function corpusLayout(name: CorpusName): CorpusLayout {
  return LAYOUTS[name];
}
