/**
 * MT-Bench's files as FastChat releases them (`fastchat/llm_judge/data/mt_bench/`): the questions
 * (`question.jsonl`), GPT-4's reference answers (`reference_answer_gpt-4.jsonl`, or FastChat's own
 * `reference_answer/gpt-4.jsonl`) and the judge prompts (`judge_prompts.jsonl`), read from one
 * directory at run time; and a model's answers, turned into one case per question for the runner.
 *
 * A model's answer to a question is a two-turn conversation: a `messages` field (chat messages, the
 * user turns being the question's) or FastChat's own answer form (`choices[0].turns`).
 */
import { once } from "node:events";
import { createWriteStream, existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, InputError } from "../base/errors/errors.ts";
import { readInputRows } from "./input-reader.ts";

export interface MtBenchQuestion {
  category: string;
  turns: [string, string];
}

export interface MtBenchData {
  questions: Map<string, MtBenchQuestion>;
  references: Map<string, [string, string]>;
  prompts: Record<string, { system_prompt: string; prompt_template: string; output_format: string }>;
}

export async function readMtBenchData(dir: string): Promise<MtBenchData> {
  const questions = new Map<string, MtBenchQuestion>();
  const questionFile = required(dir, ["question.jsonl"]);
  for await (const row of readInputRows(questionFile)) {
    const r = row.value as Record<string, unknown>;
    questions.set(String(r.question_id), { category: String(r.category), turns: twoTurns(r.turns, questionFile, row.line, "turns") });
  }
  const references = new Map<string, [string, string]>();
  const referenceFile = required(dir, ["reference_answer_gpt-4.jsonl", join("reference_answer", "gpt-4.jsonl")]);
  for await (const row of readInputRows(referenceFile)) {
    const r = row.value as { question_id: unknown; choices?: { turns?: unknown }[] };
    references.set(String(r.question_id), twoTurns(r.choices?.[0]?.turns, referenceFile, row.line, "choices"));
  }
  const prompts: MtBenchData["prompts"] = {};
  for await (const row of readInputRows(required(dir, ["judge_prompts.jsonl"]))) {
    const r = row.value as Record<string, unknown>;
    prompts[String(r.name)] = {
      system_prompt: String(r.system_prompt),
      prompt_template: String(r.prompt_template),
      output_format: String(r.output_format),
    };
  }
  return { questions, references, prompts };
}

function required(dir: string, names: readonly string[]): string {
  const found = names.map((name) => join(dir, name)).find((path) => existsSync(path));
  if (found === undefined) {
    throw new ConfigError(`the MT-Bench data directory ${dir} has no ${names.join(" or ")}`, {
      field: "data",
      hint: "point --data at FastChat's llm_judge/data/mt_bench files (question.jsonl, judge_prompts.jsonl, the reference answers)",
    });
  }
  return found;
}

function twoTurns(value: unknown, file: string, line: number, field: string): [string, string] {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((t) => typeof t === "string")) {
    throw new InputError("expected two turns of text", { file, line, field, hint: "MT-Bench conversations have exactly two turns" });
  }
  return [value[0] as string, value[1] as string];
}

/**
 * Writes one case per answered question (`id` = question id, `question`, `category`, `questions`,
 * `answers`, and `references` for the categories in `referenceCategories`); returns how many.
 */
export async function writeMtBenchCases(
  answersFile: string,
  data: MtBenchData,
  referenceCategories: readonly string[],
  output: string,
): Promise<number> {
  const out = createWriteStream(output, "utf8");
  let n = 0;
  for await (const row of readInputRows(answersFile)) {
    const r = row.value as Record<string, unknown>;
    const id = String(r.question_id);
    const question = data.questions.get(id);
    if (question === undefined) {
      throw new InputError(`no MT-Bench question has the id ${id}`, { file: answersFile, line: row.line, field: "question_id" });
    }
    const answers = answerTurns(r, question, answersFile, row.line);
    const reference = referenceCategories.includes(question.category) ? data.references.get(id) : undefined;
    const kase = {
      id,
      question: question.turns[0],
      category: question.category,
      questions: question.turns,
      answers,
      ...(reference === undefined ? {} : { references: reference }),
    };
    if (!out.write(`${JSON.stringify(kase)}\n`)) await once(out, "drain");
    n++;
  }
  out.end();
  await once(out, "finish");
  return n;
}

function answerTurns(record: Record<string, unknown>, question: MtBenchQuestion, file: string, line: number): [string, string] {
  if (Array.isArray(record.messages)) {
    const messages = record.messages as { role?: unknown; content?: unknown }[];
    const users = messages.filter((m) => m.role === "user").map((m) => m.content);
    if (users.length !== 2 || users[0] !== question.turns[0] || users[1] !== question.turns[1]) {
      throw new InputError("the user turns of the conversation are not this question's two turns", {
        file,
        line,
        field: "messages",
        hint: "give each question's conversation under its own question_id, with the questions as asked",
      });
    }
    return twoTurns(
      messages.filter((m) => m.role === "assistant").map((m) => m.content),
      file,
      line,
      "messages",
    );
  }
  const choices = record.choices as { turns?: unknown }[] | undefined;
  if (Array.isArray(choices)) return twoTurns(choices[0]?.turns, file, line, "choices");
  throw new InputError("the answer has neither a messages field nor FastChat's choices[0].turns", { file, line, field: "messages" });
}
