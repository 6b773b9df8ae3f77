/**
 * The trainer port: STaPLe's M-step as one call. A trainer takes a model and training files and
 * gives back the model the next iteration samples from, or says that a person must train it
 * (`waiting`). Its drivers (the OpenAI fine-tuning API, a user command with a serve step, a manual
 * hand-off) live above this layer and are chosen by the CLI; discovery code sees this interface only.
 *
 * A driver keeps whatever it needs to resume in `TrainerContext.state` (the run store's artifact of
 * the training run): after a kill -9, the same job is asked again with the state it last saved.
 */

/** One training job: the same `name` is the same job across re-runs. */
export interface TrainingJob {
  /** A stable name (e.g. the iteration); drivers use it as the fine-tuned model's suffix or output folder. */
  name: string;
  /** The model to start from: the current policy M_t, or M_0 when restarting from the base model. */
  baseModel: string;
  /** The training file, and the held-out file when there is one (absolute paths). */
  train: string;
  validation?: string;
  /** The trainer's name for the file format, e.g. `openai.chat.weighted`, `trl.conversational.prompt_completion`. */
  format: string;
  /** Where a local trainer writes its checkpoint or adapter. */
  outputDir: string;
  /** The TRL config the export wrote beside the data (`trl sft --config`), for every format but openai. */
  trlConfig?: string;
  seed: number;
}

export type TrainingOutcome =
  | {
      status: "trained";
      /** The model id to sample from next (as served). */
      model: string;
      /** Its OpenAI-compatible base URL, when it differs from the caller's. */
      baseUrl?: string;
      /** What training cost, when the driver knows (undefined: unknown, never free). */
      costUsd?: number;
      trainedTokens?: number;
      /** What the driver calls the job (a fine-tuning job id, a checkpoint path). */
      job?: string;
    }
  | {
      status: "waiting";
      /** The exact steps a person takes before `spri discover resume --model ID`. */
      nextSteps: string[];
    };

/** A line of progress: the stage, a message, and how far training is when the driver knows. */
export interface TrainingProgress {
  stage: "upload" | "job" | "train" | "serve";
  message: string;
  step?: number;
  totalSteps?: number;
}

/** The driver's resume state: `save` replaces it atomically, `load` gives the last one saved. */
export interface TrainerState {
  load(): Promise<unknown | undefined>;
  save(value: Record<string, unknown>): Promise<void>;
}

export interface TrainerContext {
  state: TrainerState;
  progress?: (event: TrainingProgress) => void;
  signal?: AbortSignal;
}

export interface Trainer {
  /** `openai`, `command` or `manual`. */
  readonly kind: string;
  /** The export format the driver trains on (`openai`, `trl`, `alpaca`, …). */
  readonly format: string;
  train(job: TrainingJob, context: TrainerContext): Promise<TrainingOutcome>;
}
