/**
 * The `openai` trainer: uploads the training (and validation) file, creates a fine-tuning job on
 * the job's base model, follows its events as progress, and gives back `fine_tuned_model`.
 *
 * Resumable after kill -9: every id is saved in the trainer state (the training run's artifact)
 * before the next step starts. A file whose sha256 was uploaded before is not uploaded again; a job
 * is looked up by its training file before one is created, so a crash between creating a job and
 * saving its id still finds that job instead of paying for a second one.
 */
import { SpriError } from "../../base/errors/errors.ts";
import { sha256File } from "../../io/sha256-file.ts";
import { FINAL_JOB_STATUSES, type FineTuningApi, type FineTuningJobInfo } from "../../models/fine-tuning-api.ts";
import type { Trainer, TrainerContext, TrainingJob, TrainingOutcome } from "../../models/trainer.ts";
import { Wake } from "../../base/util/wake.ts";
import { trainingCost, trainingPrice } from "./training-cost.ts";

interface UploadedFile {
  sha256: string;
  id: string;
}

/** What the trainer saves between steps. */
export interface OpenAITrainerState {
  version: 1;
  trainingFile?: UploadedFile;
  validationFile?: UploadedFile;
  jobId?: string;
  status?: string;
  lastEventId?: string;
  fineTunedModel?: string;
  trainedTokens?: number;
}

export interface OpenAITrainerOptions {
  api: FineTuningApi;
  /** Seconds between reads of a running job (default 15). */
  pollSeconds?: number;
  /** USD per million trained tokens, over the list prices. */
  trainingPrice?: number;
}

/** A fine-tuning job that ended without a model. */
export class TrainingFailedError extends SpriError {}

export class OpenAITrainer implements Trainer {
  readonly kind = "openai";
  readonly format = "openai";
  private readonly options: OpenAITrainerOptions;

  constructor(options: OpenAITrainerOptions) {
    this.options = options;
  }

  async train(job: TrainingJob, context: TrainerContext): Promise<TrainingOutcome> {
    const { api } = this.options;
    const state = ((await context.state.load()) as OpenAITrainerState | undefined) ?? { version: 1 };
    const save = () => context.state.save({ ...state });
    const progress = context.progress ?? (() => undefined);

    state.trainingFile = await this.upload(job.train, state.trainingFile, context);
    await save();
    if (job.validation) {
      state.validationFile = await this.upload(job.validation, state.validationFile, context);
      await save();
    }
    if (!state.jobId) {
      const created = await this.findOrCreateJob(job, state, context.signal);
      state.jobId = created.id;
      state.status = created.status;
      await save();
      progress({ stage: "job", message: `fine-tuning job ${created.id} on ${job.baseModel} (${api.endpoint})` });
    } else {
      progress({ stage: "job", message: `following fine-tuning job ${state.jobId} again` });
    }
    const done = await this.follow(state, save, context);
    if (done.status !== "succeeded" || !done.fineTunedModel) {
      throw new TrainingFailedError(`fine-tuning job ${done.id} ended ${done.status}${done.error ? `: ${done.error}` : ""}`, {
        hint: "fix the data or the model and start a new training run (--new-run)",
      });
    }
    const costUsd = trainingCost(done.trainedTokens, trainingPrice(job.baseModel, api.endpoint, this.options.trainingPrice));
    return {
      status: "trained",
      model: done.fineTunedModel,
      job: done.id,
      ...(done.trainedTokens === undefined ? {} : { trainedTokens: done.trainedTokens }),
      ...(costUsd === undefined ? {} : { costUsd }),
    };
  }

  /** The file's id at the provider: the one saved for the same bytes, else a fresh upload. */
  private async upload(path: string, saved: UploadedFile | undefined, context: TrainerContext): Promise<UploadedFile> {
    const sha256 = await sha256File(path);
    if (saved?.sha256 === sha256) return saved;
    context.progress?.({ stage: "upload", message: `uploading ${path}` });
    return { sha256, id: await this.options.api.uploadFile(path, context.signal) };
  }

  private async findOrCreateJob(job: TrainingJob, state: OpenAITrainerState, signal?: AbortSignal): Promise<FineTuningJobInfo> {
    const { api } = this.options;
    const trainingFile = state.trainingFile!.id;
    const existing = await api.findJobByTrainingFile(trainingFile, signal);
    if (existing && existing.status !== "failed" && existing.status !== "cancelled") return existing;
    return api.createJob(
      {
        model: job.baseModel,
        trainingFile,
        ...(state.validationFile ? { validationFile: state.validationFile.id } : {}),
        suffix: job.name.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 18),
        seed: job.seed,
      },
      signal,
    );
  }

  /** Reads the job and its new events until it ends; each event is progress, and the last one seen is saved. */
  private async follow(state: OpenAITrainerState, save: () => Promise<void>, context: TrainerContext): Promise<FineTuningJobInfo> {
    const { api } = this.options;
    const wake = new Wake();
    const jobId = state.jobId!;
    for (;;) {
      const info = await api.retrieveJob(jobId, context.signal);
      const events = await api.eventsAfter(jobId, state.lastEventId, context.signal);
      for (const event of events) {
        context.progress?.({
          stage: "train",
          message: event.message,
          ...(event.step === undefined ? {} : { step: event.step }),
          ...(event.totalSteps === undefined ? {} : { totalSteps: event.totalSteps }),
        });
      }
      const changed = events.length > 0 || info.status !== state.status;
      state.lastEventId = events.at(-1)?.id ?? state.lastEventId;
      state.status = info.status;
      if (info.fineTunedModel) state.fineTunedModel = info.fineTunedModel;
      if (info.trainedTokens !== undefined) state.trainedTokens = info.trainedTokens;
      if (changed) await save();
      if (FINAL_JOB_STATUSES.has(info.status)) return info;
      context.signal?.throwIfAborted();
      await wake.wait((this.options.pollSeconds ?? 15) * 1000, context.signal);
    }
  }
}
