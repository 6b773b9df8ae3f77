/**
 * The fine-tuning port: what the \`openai\` trainer needs of a fine-tuning service (upload a file,
 * create a job, read it and its events). The OpenAI adapter is openai-fine-tuning.ts, chosen by the CLI.
 */
export type FineTuningStatus = "validating_files" | "queued" | "running" | "succeeded" | "failed" | "cancelled";
/** Statuses a job never leaves. */
export const FINAL_JOB_STATUSES: ReadonlySet<string> = new Set(["succeeded", "failed", "cancelled"]);

export interface FineTuningJobInfo {
  id: string;
  status: FineTuningStatus;
  model: string;
  trainingFile: string;
  validationFile?: string;
  /** Set once the job succeeded. */
  fineTunedModel?: string;
  trainedTokens?: number;
  /** Why it failed. */
  error?: string;
}

export interface FineTuningEvent {
  id: string;
  message: string;
  /** Training step and total, for metrics events. */
  step?: number;
  totalSteps?: number;
}

export interface NewFineTuningJob {
  model: string;
  trainingFile: string;
  validationFile?: string;
  suffix?: string;
  seed?: number;
}

/** What the `openai` trainer needs of a fine-tuning service. */
export interface FineTuningApi {
  /** Where jobs go, for messages (no key). */
  readonly endpoint: string;
  uploadFile(path: string, signal?: AbortSignal): Promise<string>;
  createJob(job: NewFineTuningJob, signal?: AbortSignal): Promise<FineTuningJobInfo>;
  retrieveJob(id: string, signal?: AbortSignal): Promise<FineTuningJobInfo>;
  /** A job made from this training file, if one exists (a crash between create and saving its id). */
  findJobByTrainingFile(fileId: string, signal?: AbortSignal): Promise<FineTuningJobInfo | undefined>;
  /** Events after `after` (an event id), oldest first. */
  eventsAfter(jobId: string, after: string | undefined, signal?: AbortSignal): Promise<FineTuningEvent[]>;
}
