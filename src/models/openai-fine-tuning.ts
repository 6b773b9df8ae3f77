/**
 * The OpenAI fine-tuning API (files with purpose `fine-tune`, `/v1/fine_tuning/jobs` and their
 * events) through the official SDK, as the `openai` trainer drives it. Only ids, statuses, counts
 * and event messages come back; the key never leaves the client.
 */
import { createReadStream } from "node:fs";
import type OpenAI from "openai";
import type { FineTuningApi, FineTuningEvent, FineTuningJobInfo, NewFineTuningJob } from "./fine-tuning-api.ts";
import { OpenAISdkClient, type OpenAISdkOptions } from "./openai-sdk-client.ts";

export type OpenAIFineTuningApiOptions = OpenAISdkOptions;

/** How many jobs `findJobByTrainingFile` looks through, newest first. */
const FIND_LIMIT = 1000;

export class OpenAIFineTuningApi implements FineTuningApi {
  readonly endpoint: string;
  private readonly sdk: OpenAISdkClient;

  constructor(options: OpenAIFineTuningApiOptions = {}) {
    this.sdk = new OpenAISdkClient(options, {
      feature: "the OpenAI fine-tuning API (--trainer openai)",
      installHint: "or train with --trainer command or --trainer manual",
      errorHint: (kind) =>
        kind === "not-found"
          ? "this server has no fine-tuning API: train with --trainer command (e.g. TRL) and serve the result"
          : kind === "auth"
            ? "check the API key (OPENAI_API_KEY) and that it may fine-tune"
            : undefined,
    });
    this.endpoint = this.sdk.endpoint;
  }

  async uploadFile(path: string, signal?: AbortSignal): Promise<string> {
    const file = await this.sdk.call("upload a fine-tuning file", (client) =>
      client.files.create({ file: createReadStream(path), purpose: "fine-tune" }, { signal }),
    );
    return file.id;
  }

  async createJob(job: NewFineTuningJob, signal?: AbortSignal): Promise<FineTuningJobInfo> {
    const created = await this.sdk.call("create a fine-tuning job", (client) =>
      client.fineTuning.jobs.create(
        {
          model: job.model,
          training_file: job.trainingFile,
          ...(job.validationFile ? { validation_file: job.validationFile } : {}),
          ...(job.suffix ? { suffix: job.suffix } : {}),
          ...(job.seed === undefined ? {} : { seed: job.seed }),
        },
        { signal },
      ),
    );
    return jobInfo(created);
  }

  async retrieveJob(id: string, signal?: AbortSignal): Promise<FineTuningJobInfo> {
    return jobInfo(await this.sdk.call(`read fine-tuning job ${id}`, (client) => client.fineTuning.jobs.retrieve(id, { signal })));
  }

  async findJobByTrainingFile(fileId: string, signal?: AbortSignal): Promise<FineTuningJobInfo | undefined> {
    return this.sdk.call("list fine-tuning jobs", async (client) => {
      let seen = 0;
      for await (const job of client.fineTuning.jobs.list({ limit: 100 }, { signal })) {
        if (job.training_file === fileId) return jobInfo(job);
        if (++seen >= FIND_LIMIT) break;
      }
      return undefined;
    });
  }

  async eventsAfter(jobId: string, after: string | undefined, signal?: AbortSignal): Promise<FineTuningEvent[]> {
    return this.sdk.call(`read the events of fine-tuning job ${jobId}`, async (client) => {
      // The API lists newest first, and `after` pages towards older events: read until the last one seen.
      const events: FineTuningEvent[] = [];
      for await (const event of client.fineTuning.jobs.listEvents(jobId, { limit: 100 }, { signal })) {
        if (event.id === after) break;
        events.push(eventOf(event));
      }
      return events.reverse();
    });
  }
}

function jobInfo(job: OpenAI.FineTuning.Jobs.FineTuningJob): FineTuningJobInfo {
  return {
    id: job.id,
    status: job.status,
    model: job.model,
    trainingFile: job.training_file,
    ...(job.validation_file ? { validationFile: job.validation_file } : {}),
    ...(job.fine_tuned_model ? { fineTunedModel: job.fine_tuned_model } : {}),
    ...(typeof job.trained_tokens === "number" ? { trainedTokens: job.trained_tokens } : {}),
    ...(job.error?.message ? { error: job.error.message } : {}),
  };
}

function eventOf(event: OpenAI.FineTuning.Jobs.FineTuningJobEvent): FineTuningEvent {
  const data = (event.data ?? {}) as { step?: unknown; total_steps?: unknown };
  return {
    id: event.id,
    message: event.message,
    ...(typeof data.step === "number" ? { step: data.step } : {}),
    ...(typeof data.total_steps === "number" ? { totalSteps: data.total_steps } : {}),
  };
}
