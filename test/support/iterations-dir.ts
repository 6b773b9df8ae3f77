/**
 * An iterations directory as `spri discover iterate` leaves it after three of four iterations, made
 * with the library's own functions (init, model, record, eval summary) over hand-written mined and
 * evaluation records, as the runner writes them. For the viewer's iterations page and its API.
 *
 *   iter  model       constitution (label: text)                                  discovery  Rouge-L  vs previous  vs base
 *   1     base-7b     Concision, Citations                                        0.75       0.3      –            –
 *   2     iter-1-ft   Empathy (new), concision (kept); Citations dropped          0.5        0.4      62.5%        62.5%
 *   3     iter-2-ft   Empathy (kept), "Refuse harmful requests." (new); Concision dropped   0.25   0.5   75%   87.5%
 *   4     –           –                                                           –          –        –            –
 *
 * Iteration 1's model URL carries `SECRET` as a password: nothing the viewer sends may hold it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Constitution, loadConstitution, writeConstitution } from "../../src/algorithms/discovery/constitution.ts";
import type { AlignedRow } from "../../src/algorithms/discovery/constitution-alignment.ts";
import { iterDir, iterFile } from "../../src/algorithms/discovery/iterations.ts";
import { initIterations, recordIteration, setIterationModel } from "../../src/runtime/runner/discovery-iterations.ts";
import { recordIterationEval } from "../../src/runtime/runner/iteration-eval.ts";

export const ITERATIONS_SECRET = "sk-iterations-SECRET-5678";
export const MODELS = ["base-7b", "iter-1-ft", "iter-2-ft"];

const jsonl = (rows: readonly unknown[]) => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;

/** Mined records: one accepted record per principle given, the rest rejected, four in all. */
function mined(principles: readonly string[]): Record<string, unknown>[] {
  return Array.from({ length: 4 }, (_, i) => {
    const z = principles[i];
    return z === undefined
      ? { id: `r${i}`, accepted: false, decision: "no-gain", best: null }
      : { id: `r${i}`, accepted: true, decision: "accepted", best: { k: 0, z, critique: "c", y2: "y2", fY2: 0.5, gain: 0.1 } };
  });
}

const principle = (id: string, text: string, name?: string) => ({
  id,
  text,
  size: 2,
  uniqueMembers: 1,
  members: [],
  ...(name ? { name } : {}),
});

const CONSTITUTIONS: Constitution["principles"][] = [
  [principle("c1", "Keep answers short.", "Concision"), principle("c2", "Name your sources.", "Citations")],
  [principle("c1", "Acknowledge feelings first.", "Empathy"), principle("c2", "Answer briefly and plainly.", "concision")],
  [principle("c1", "Acknowledge feelings first.", "Empathy"), principle("c2", "Refuse harmful requests.")],
];

const MINED = [
  ["Keep answers short.", "Name your sources.", "Keep answers short.", "Cite where facts come from."],
  ["Answer briefly and plainly.", "Acknowledge feelings first.", "Keep answers short."],
  ["Acknowledge feelings first.", "Refuse harmful requests."],
];

/** Evaluation records: Rouge-L F1 per item, and the judge's preferences against the previous and the base model (null: none). */
function evaluated(f1s: readonly number[], previous: readonly number[] | null, base: readonly number[] | null): Record<string, unknown>[] {
  const comparison = (preferences: readonly number[] | null, i: number, baseline: string) =>
    preferences === null ? null : { preference: preferences[i], baseline: `${baseline} answer ${i}` };
  return f1s.map((f1, i) => ({
    id: `h${i}`,
    eval_answer: `answer ${i}`,
    eval_rougeL: { precision: f1, recall: f1, f1 },
    eval_vs_previous: comparison(previous, i, "previous"),
    eval_vs_base: comparison(base, i, "base"),
  }));
}

const EVALS = [
  evaluated([0.2, 0.4, 0.3, 0.3], null, null),
  evaluated([0.5, 0.3, 0.4, 0.4], [1, 1, 0.5, 0], [1, 1, 0.5, 0]),
  evaluated([0.6, 0.5, 0.4, 0.5], [1, 1, 1, 0], [1, 1, 1, 0.5]),
];

/** Writes the directory under a fresh temporary folder; returns the iterations directory. */
export async function makeIterationsDir(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), "spri-iterations-view-"));
  const data = join(root, "data.jsonl");
  writeFileSync(data, jsonl(Array.from({ length: 16 }, (_, i) => ({ id: `q${i}`, prompt: `prompt ${i}`, gold: `gold ${i}` }))));
  const dir = join(root, "iterations");
  await initIterations({ dir, input: data, slices: 4 });
  for (const [index, model] of MODELS.entries()) {
    const iter = index + 1;
    const baseUrl = iter === 1 ? `http://user:${ITERATIONS_SECRET}@llm.example/v1` : `http://127.0.0.1:800${iter}/v1`;
    setIterationModel(dir, iter, { baseModel: model, baseUrl });
    mkdirSync(iterDir(dir, iter), { recursive: true });
    writeFileSync(iterFile(dir, iter, "mined"), jsonl(mined(MINED[index]!)));
    writeConstitution(iterFile(dir, iter, "constitution"), {
      format: "spri-constitution",
      version: 1,
      principles: CONSTITUTIONS[index]!,
      source: { embeddings: { baseUrl: `https://llm.example/v1?api_key=${ITERATIONS_SECRET}` } },
    });
    await recordIteration(dir, iter, { readConstitution: loadConstitution });
    writeFileSync(iterFile(dir, iter, "eval"), jsonl(EVALS[index]!));
    await recordIterationEval(dir, iter);
  }
  return dir;
}

/** Aligned constitutions as lines `label: cell | cell …`, a cell as `id+` (new), `id=` (kept), `id` (first), `dropped` or `·` (nothing). */
export function alignmentPicture(rows: readonly AlignedRow[]): string[] {
  const cellText = (cell: AlignedRow["cells"][number]) => {
    if (cell === null) return "·";
    if (cell.change === "dropped") return "dropped";
    return `${cell.principle.id}${cell.change === "new" ? "+" : cell.change === "kept" ? "=" : ""}`;
  };
  return rows.map((row) => `${row.label}: ${row.cells.map(cellText).join(" | ")}`);
}
