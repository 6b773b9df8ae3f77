/** `spri discover corpus`: a mining corpus (local file or Hub dataset) → the JSONL `discover mine` reads. */
import type { Command } from "commander";
import { CORPUS_NAMES } from "../../../algorithms/discovery/corpora/corpora.ts";
import { parseInputFormat } from "../../../io/input-reader.ts";
import { writeCorpus } from "../../../runtime/runner/corpus-file.ts";
import { hubAccess } from "../../../runtime/runner/hub-dataset.ts";
import { defaultDatasetsDir } from "../../../runtime/runner/hub-download.ts";
import { formatMiB } from "../../../base/util/format-mib.ts";
import { downloadProgress } from "../download-progress.ts";
import { flag, choice, negatable, optionalText, optionSchema, parseOptions, text } from "../option-schema.ts";
import { positiveInteger } from "./discover-options.ts";

const CORPUS_FLAGS = optionSchema({
  corpus: choice(CORPUS_NAMES),
  from: text,
  output: text,
  limit: positiveInteger.optional(),
  skipInvalid: flag,
  context: negatable,
  format: optionalText,
  cacheDir: optionalText,
  hubUrl: optionalText,
  json: flag,
});

async function executeCorpus(raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(CORPUS_FLAGS, raw);
  const cacheDir = options.cacheDir ?? defaultDatasetsDir();
  let progress: ReturnType<typeof downloadProgress> | undefined;
  let shown = "";
  const summary = await writeCorpus({
    corpus: options.corpus,
    from: options.from,
    output: options.output,
    format: options.format === undefined ? undefined : parseInputFormat(options.format),
    limit: options.limit,
    skipInvalid: options.skipInvalid,
    context: options.context,
    cacheDir,
    access: hubAccess({ hubUrl: options.hubUrl }),
    onFile: (file) => {
      shown = file.shown;
      progress = downloadProgress();
      if (!options.json) process.stderr.write(`spri: reading ${file.shown} (${formatMiB(file.size)})\n`);
    },
    onDownload: ({ downloadedBytes, totalBytes }) => progress?.({ model: shown, directory: cacheDir, downloadedBytes, totalBytes }),
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ output: options.output, ...summary })}\n`);
    return;
  }
  const skipped = summary.skipped > 0 ? `; skipped ${summary.skipped} that did not fit (first: ${summary.firstSkipped})` : "";
  process.stderr.write(`spri: wrote ${summary.rows} rows to ${options.output}${skipped}\n`);
}

export function corpusCommand(discover: Command): Command {
  const command = discover
    .command("corpus")
    .description("write a mining corpus (HH-RLHF, UltraFeedback, TL;DR, HotpotQA) as the prompt/gold rows `discover mine` reads")
    .requiredOption("--corpus <name>", `the corpus's layout: ${CORPUS_NAMES.join(", ")}`)
    .requiredOption("--from <source>", "a local file (JSONL, JSON, Parquet, CSV; .gz too) or a Hub dataset hf:ID[@revision][:split]")
    .requiredOption("--output <file>", "the JSONL to write (whole or not at all)")
    .option("--limit <n>", "stop after this many rows")
    .option("--skip-invalid", "skip rows that do not fit the layout (counted) instead of stopping at the first")
    .option("--no-context", "hotpotqa: the question alone, without its context paragraphs")
    .option("--format <format>", "a local file's format when its extension does not say (jsonl, json, csv, tsv, parquet)")
    .option("--cache-dir <dir>", "where Hub files are kept (default $SPRI_DATASETS_DIR, else ~/.cache/spri/datasets)")
    .option("--hub-url <url>", "the Hugging Face Hub or a mirror (default $HF_ENDPOINT, else https://huggingface.co)")
    .option("--json", "print the summary as JSON");
  command.addHelpText(
    "after",
    `
Rows written: {id, source, prompt, gold} (and messages for multi-turn prompts); mine them with
  spri discover mine --input <output> …   (prompt is read as the question, gold as --gold-field)
Layouts read:
  hh-rlhf        {chosen, rejected} dialogues: the prompt is the dialogue before the last Assistant
                 turn, the gold that turn of chosen
  ultrafeedback  openbmb/UltraFeedback {instruction, completions}: the gold is the completion with the
                 highest fine-grained_score (ties: overall_score); ultrafeedback_binarized {prompt,
                 chosen}: the gold is chosen's last assistant message
  tldr           {prompt, label}, {prompt, completion}, {post, summary} (with title, subreddit), or
                 summarize_from_feedback comparisons {info, summaries, choice}
  hotpotqa       {question, answer, context}: the gold is the answer; the context paragraphs go
                 before the question unless --no-context
Hub datasets: hf:Anthropic/hh-rlhf:helpful-base/train, hf:HuggingFaceH4/ultrafeedback_binarized:train_prefs,
  hf:hotpotqa/hotpot_qa:distractor/train; the split (default train) is a folder or a file-name prefix.
  Files are listed through the Hub's API, downloaded once into the cache (an interrupted download
  resumes) and checked against the Hub's checksums.
Environment:
  HF_ENDPOINT        the Hub or a mirror (--hub-url overrides it)
  HF_TOKEN           a Hub token, sent as a bearer token for gated and private datasets; never logged or stored
  SPRI_DATASETS_DIR  the cache (--cache-dir overrides it)`,
  );
  command.action((options: Record<string, unknown>) => executeCorpus(options));
  return command;
}
