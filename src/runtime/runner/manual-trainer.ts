/**
 * The `manual` trainer: nothing is trained here. It stops after the export with the exact steps a
 * person takes, the last of which (`spri discover resume --model ID`) records the trained model and
 * lets the loop go on.
 */
import type { Trainer, TrainerContext, TrainingJob, TrainingOutcome } from "../../models/trainer.ts";

export class ManualTrainer implements Trainer {
  readonly kind = "manual";
  readonly format: string;
  /** The command that resumes (with its --store), ending in `--model`. */
  private readonly resumeCommand: string;

  constructor(options: { format?: string; resumeCommand?: string } = {}) {
    this.format = options.format ?? "trl";
    this.resumeCommand = options.resumeCommand ?? "spri discover resume";
  }

  async train(job: TrainingJob, _context: TrainerContext): Promise<TrainingOutcome> {
    const data = job.validation ? `${job.train} (validation: ${job.validation})` : job.train;
    const { trlConfig } = job;
    return {
      status: "waiting",
      nextSteps: [
        trlConfig
          ? `train ${job.baseModel} on ${data}: trl sft --config ${trlConfig} (run it in that file's directory; output in ${job.outputDir})`
          : `train ${job.baseModel} on ${data} (format ${job.format}), writing to ${job.outputDir}`,
        "serve the trained model on an OpenAI-compatible server (e.g. vllm serve <checkpoint>, or vLLM --enable-lora with the adapter)",
        `${this.resumeCommand} --model <served model id> --base-url <its /v1 URL>`,
      ],
    };
  }
}
