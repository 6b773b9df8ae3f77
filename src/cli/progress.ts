/** Live progress for one item on a terminal (stderr), or nothing when stderr is not a terminal. */
import type { CallRecord } from "../io/records.ts";

const STEP_LABEL: Record<string, string> = {
  "principle.generate": "drafting principles",
  "principle.critique": "critiquing principles",
  "principle.refine": "refining principles",
  "response.generate": "drafting the response",
  "response.critique": "critiquing the response",
  "response.refine": "refining the response",
};

export function callProgressLine(call: CallRecord): string {
  const label = STEP_LABEL[call.step] ?? call.step;
  const iteration = call.iteration > 0 ? ` ${call.iteration}` : "";
  if (call.error) return `✗ ${label}${iteration}: ${call.error}`;
  if (call.role === "critic") {
    const score = call.parsed?.score;
    return `· ${label}${iteration}: score ${score === null || score === undefined ? "unscored" : score} (${Math.round(call.latencyMs)} ms)`;
  }
  return `· ${label}${iteration} (${Math.round(call.latencyMs)} ms, ${call.usage.outputTokens} tokens)`;
}

export class TerminalProgress {
  private readonly stream: NodeJS.WriteStream;
  readonly enabled: boolean;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.stream = stream;
    this.enabled = Boolean(stream.isTTY);
  }

  line(text: string): void {
    if (this.enabled) this.stream.write(`${text}\n`);
  }

  /** One rewritable status line (carriage return), for many-item runs. */
  status(text: string): void {
    if (this.enabled) this.stream.write(`\r\x1b[2K${text}`);
  }

  end(): void {
    if (this.enabled) this.stream.write("\r\x1b[2K");
  }
}
