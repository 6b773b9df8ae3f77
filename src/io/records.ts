/**
 * The one data model. Every model call is a CallRecord; every input item becomes an ItemRecord whose
 * fields keep the reference code's names, so outputs drop into the paper's analysis scripts. The
 * CLI's JSONL, the run store, the server API and the viewer all read these schemas.
 */
import { z } from "zod";

export const chatMessageSchema = z.object({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});

export const samplingSchema = z.object({
  temperature: z.number().optional(),
  topP: z.number().optional(),
  topK: z.number().optional(),
  maxTokens: z.number().optional(),
  seed: z.number().optional(),
  stop: z.array(z.string()).optional(),
});

export const usageSchema = z.object({ inputTokens: z.number(), outputTokens: z.number() });

/** SPRI's steps, in the order its loop takes them. */
export const CALL_STEPS = [
  "principle.generate",
  "principle.critique",
  "principle.refine",
  "response.generate",
  "response.critique",
  "response.refine",
] as const;

export const callStepSchema = z.enum(CALL_STEPS);
export type CallStep = z.infer<typeof callStepSchema> | (string & {});

export const callRecordSchema = z.object({
  runId: z.string().optional(),
  itemId: z.string(),
  step: z.string(),
  /** 0 for first drafts; k for the k-th critique and the refinement that follows it. */
  iteration: z.number().int(),
  /** Re-asks of the same step (unscored critiques) count up from 0. */
  attempt: z.number().int().default(0),
  role: z.enum(["base", "critic", "judge"]),
  model: z.string(),
  endpoint: z.string(),
  request: z.object({
    messages: z.array(chatMessageSchema),
    sampling: samplingSchema,
    schema: z.string().optional(),
  }),
  response: z.string().nullable(),
  parsed: z.object({ score: z.number().nullable().optional(), marker: z.string().nullable().optional() }).optional(),
  usage: usageSchema,
  latencyMs: z.number(),
  finishReason: z.string().optional(),
  cacheHit: z.boolean().default(false),
  error: z.string().optional(),
  /** A failed call that never left spri (cancelled while it waited for a slot): nothing was sent or paid. */
  unsent: z.boolean().optional(),
  startedAt: z.string(),
});
export type CallRecord = z.infer<typeof callRecordSchema>;

/**
 * An output record: the input's own fields first, then the SPRI fields in the reference's order
 * (`principle_raw`, `principle_raw_prompt`, `iteration_principle`, `principle_final`,
 * `principles_critique_iter_k`, ..., `response_final`, `response_critique_final`). Dynamic `_iter_k`
 * keys make a closed schema impractical; `itemRecordCoreSchema` checks the fields every record has.
 */
export type ItemRecord = Record<string, unknown>;

export const itemRecordCoreSchema = z
  .object({
    principle_raw: z.string(),
    iteration_principle: z.number().int().min(1),
    principle_final: z.string(),
    init_response: z.string().optional(),
    iteration_response: z.number().int().min(1).optional(),
    response_final: z.string().optional(),
  })
  .loose();
