/**
 * `spri discover corpus`: a mining corpus, from a local file or a Hub dataset (`hf:ID[@rev][:split]`),
 * written as the JSON Lines `spri discover mine --input` reads: `{id, source, prompt, gold}` (and
 * `messages` for multi-turn prompts). Rows are read by io/input-reader (JSONL, JSON, Parquet, CSV;
 * gzipped text too) and mapped by the corpus's layout (discovery/corpora/); the output appears only
 * once every row is written.
 */
import { basename } from "node:path";
import { type CorpusName, corpusLayout, type MiningRow } from "../../algorithms/discovery/corpora/corpora.ts";
import { InputError } from "../../base/errors/errors.ts";
import { checkInputFile, type InputFormat, readInputRows } from "../../io/input-reader.ts";
import { writeJsonlAtomically } from "../../io/jsonl-output.ts";
import { type HubAccess, hubAccess, isHubSource, parseHubSource, resolveSplitFiles } from "./hub-dataset.ts";
import { type DownloadProgress, defaultDatasetsDir, downloadHubFile } from "./hub-download.ts";

export interface CorpusOptions {
  corpus: CorpusName;
  /** A local file, or `hf:ID[@revision][:split]`. */
  from: string;
  output: string;
  /** A local file's format when its extension does not say. */
  format?: InputFormat;
  /** Stop after this many rows. */
  limit?: number;
  /** Count and skip rows that do not fit the layout, instead of stopping at the first. */
  skipInvalid?: boolean;
  /** hotpotqa: the context paragraphs before the question (default true). */
  context?: boolean;
  /** Where Hub files are kept (default: defaultDatasetsDir()). */
  cacheDir?: string;
  /** The Hub and its token (default: HF_ENDPOINT and HF_TOKEN). */
  access?: HubAccess;
  onDownload?: (progress: DownloadProgress) => void;
  /** Told before each Hub file is fetched (or found in the cache). */
  onFile?: (file: { shown: string; size: number }) => void;
}

export interface CorpusSummary {
  rows: number;
  skipped: number;
  /** The files read, as shown in messages (`hf:ID@revision/path` for the Hub's). */
  files: string[];
  /** The first skipped row's problem, as `file:line: field "x": …`. */
  firstSkipped?: string;
}

interface CorpusInput {
  local: string;
  shown: string;
  /** What generated ids carry: the file's name, or its path in the repository, without extension. */
  label: string;
}

const withoutDataExtension = (name: string) => name.replace(/(\.(parquet|jsonl|ndjson|json|csv|tsv))?(\.gz)?$/i, "");

async function corpusInputs(options: CorpusOptions): Promise<CorpusInput[]> {
  if (!isHubSource(options.from)) {
    checkInputFile(options.from);
    return [{ local: options.from, shown: options.from, label: withoutDataExtension(basename(options.from)) }];
  }
  const source = parseHubSource(options.from);
  const access = options.access ?? hubAccess({});
  const cacheDir = options.cacheDir ?? defaultDatasetsDir();
  const inputs: CorpusInput[] = [];
  for (const file of await resolveSplitFiles(access, source)) {
    const shown = `hf:${source.repo}@${source.revision}/${file.path}`;
    options.onFile?.({ shown, size: file.size });
    const local = await downloadHubFile({ access, source, file, cacheDir, onProgress: options.onDownload });
    inputs.push({ local, shown, label: withoutDataExtension(file.path) });
  }
  return inputs;
}

function duplicateId(id: string, input: CorpusInput, line: number): InputError {
  return new InputError(`the id "${id}" appears twice`, {
    file: input.shown,
    line,
    field: "id",
    hint: "read one split (or config) at a time: a split named in several folders can repeat ids",
  });
}

async function* miningRows(inputs: readonly CorpusInput[], options: CorpusOptions, summary: CorpusSummary): AsyncGenerator<MiningRow> {
  const layout = corpusLayout(options.corpus);
  const ids = new Set<string>();
  for (const input of inputs) {
    for await (const { line, value } of readInputRows(input.local, { format: isHubSource(options.from) ? undefined : options.format })) {
      if (options.limit !== undefined && summary.rows >= options.limit) return;
      let row: MiningRow;
      try {
        row = layout.toMiningRow(value, { file: input.shown, line, label: input.label }, { context: options.context });
        if (ids.has(row.id)) throw duplicateId(row.id, input, line);
      } catch (error) {
        if (!(options.skipInvalid && error instanceof InputError)) throw error;
        summary.skipped++;
        summary.firstSkipped ??= error.describe();
        continue;
      }
      ids.add(row.id);
      summary.rows++;
      yield row;
    }
  }
}

/** Reads the corpus and writes its mining rows to `options.output` (whole, or not at all). */
export async function writeCorpus(options: CorpusOptions): Promise<CorpusSummary> {
  const inputs = await corpusInputs(options);
  const summary: CorpusSummary = { rows: 0, skipped: 0, files: inputs.map((input) => input.shown) };
  await writeJsonlAtomically(options.output, miningRows(inputs, options, summary));
  return summary;
}
