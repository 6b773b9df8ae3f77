/**
 * Judge runs in the viewer: the judge's final scores against the human scores in the same records
 * (BiGGen Bench rows carry `human_score` and `capability`), per group, with the metrics of
 * `spri eval correlate`. Reads the records through the store, page by page.
 */
import { correlationMetrics, parseScore, type ScoredGroup } from "../../algorithms/judge/correlate.ts";
import type { RunStore } from "../../runtime/store/run-store.ts";
import type { JudgeReportResponse } from "./api-types.ts";

export interface JudgeReportOptions {
  scoreField?: string;
  humanField?: string;
  /** Null: one group, "all". */
  groupBy?: string | null;
}

/** The judge's score of its final judgement (`FINAL_SCORE_FIELD` of judge/spri-judge.ts). */
const FINAL_SCORE_FIELD = "response_final-[score]";
const PAGE = 1000;
const MAX_POINTS = 2000;

export function isJudgeRun(task: string): boolean {
  return task.startsWith("judge/");
}

export async function judgeReport(store: RunStore, runId: string, options: JudgeReportOptions = {}): Promise<JudgeReportResponse> {
  const scoreField = options.scoreField ?? FINAL_SCORE_FIELD;
  const humanField = options.humanField ?? "human_score";
  const groupBy = options.groupBy === undefined ? "capability" : options.groupBy;
  const groups = new Map<string, ScoredGroup>();
  const points: JudgeReportResponse["points"] = [];
  let read = 0;
  let used = 0;
  for (let offset = 0; ; offset += PAGE) {
    const items = await store.listItems(runId, { status: "done", limit: PAGE, offset });
    for (const item of items) {
      read++;
      const record = item.record;
      if (!record) continue;
      const judge = parseScore(record[scoreField]);
      const human = parseScore(record[humanField]);
      if (judge.kind !== "number" || human.kind !== "number") continue;
      const groupValue = groupBy === null ? "all" : record[groupBy];
      const group =
        typeof groupValue === "string" && groupValue !== ""
          ? groupValue
          : groupValue === undefined || groupValue === null
            ? ""
            : String(groupValue);
      if (group === "") continue;
      let scored = groups.get(group);
      if (!scored) groups.set(group, (scored = { name: group, human: [], judge: [] }));
      scored.human.push(human.value);
      scored.judge.push(judge.value);
      used++;
      if (points.length < MAX_POINTS) points.push({ itemId: item.itemId, group, human: human.value, judge: judge.value });
    }
    if (items.length < PAGE) break;
  }
  const list = [...groups.values()];
  const metrics = correlationMetrics(list);
  return {
    runId,
    scoreField,
    humanField,
    groupBy,
    read,
    n: used,
    dropped: read - used,
    groups: list.map((group) => ({
      name: group.name,
      n: group.human.length,
      pearson: metrics.pearson.groups[group.name] ?? null,
      spearman: metrics.spearman.groups[group.name] ?? null,
      mae: metrics.mae.groups[group.name] ?? null,
      alpha: metrics.krippendorff_alpha.groups[group.name] ?? null,
    })),
    pooled: {
      pearson: metrics.pearson.pooled,
      spearman: metrics.spearman.pooled,
      mae: metrics.mae.pooled,
      alpha: metrics.krippendorff_alpha.pooled,
    },
    mean: { pearson: metrics.pearson.mean, spearman: metrics.spearman.mean, mae: metrics.mae.mean, alpha: metrics.krippendorff_alpha.mean },
    points,
  };
}
