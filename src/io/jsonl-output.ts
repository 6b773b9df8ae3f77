/**
 * Output that never looks complete before it is: records go to `<file>.partial`, which is renamed
 * to the real name only when every item has been written.
 */
import { createWriteStream, mkdirSync, renameSync, rmSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";

export class JsonlOutput {
  readonly file: string;
  readonly partial: string;
  private readonly stream: WriteStream;
  private failed: Error | undefined;

  constructor(file: string) {
    this.file = file;
    this.partial = `${file}.partial`;
    mkdirSync(dirname(file), { recursive: true });
    this.stream = createWriteStream(this.partial, { encoding: "utf8" });
    this.stream.on("error", (error) => {
      this.failed = error;
    });
  }

  async write(record: unknown): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.stream.write(`${JSON.stringify(record)}\n`)) {
      await new Promise<void>((resolve) => this.stream.once("drain", resolve));
    }
  }

  /** Flushes and gives the file its real name. */
  async commit(): Promise<void> {
    await this.close();
    if (this.failed) throw this.failed;
    renameSync(this.partial, this.file);
  }

  /** Flushes and leaves the `.partial` file for inspection. */
  async close(): Promise<void> {
    if (this.stream.closed) return;
    await new Promise<void>((resolve) => this.stream.end(resolve));
  }
}

/** Writes every record to `file` through a `.partial` file; on failure the partial file is removed. */
export async function writeJsonlAtomically(file: string, records: AsyncIterable<unknown>): Promise<void> {
  const out = new JsonlOutput(file);
  try {
    for await (const record of records) await out.write(record);
  } catch (error) {
    await out.close();
    rmSync(out.partial, { force: true });
    throw error;
  }
  await out.commit();
}
