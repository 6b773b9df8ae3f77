/** Starts bench/server.ts as a child process and talks to it over IPC. */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ServerCommand, ServerConfig, ServerMessage, ServerStats } from "./server.ts";

const SERVER_SCRIPT = fileURLToPath(new URL("./server.ts", import.meta.url));

export class BenchServer {
  readonly url: string;
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, (stats: ServerStats) => void>();

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.url = `http://127.0.0.1:${port}`;
    child.on("message", (message: ServerMessage) => {
      if (message.type !== "reply") return;
      this.pending.get(message.id)?.(message.stats);
      this.pending.delete(message.id);
    });
  }

  static async start(): Promise<BenchServer> {
    // Same Node as the bench (22, which strips the types); a clean env keeps NODE_OPTIONS out.
    const child = fork(SERVER_SCRIPT, [], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`bench server exited (code ${code}) before it was ready`)));
      child.on("message", (message: ServerMessage) => {
        if (message.type === "ready") resolve(message.port);
      });
    });
    child.removeAllListeners("exit");
    return new BenchServer(child, port);
  }

  /** Sets latency and cap, and resets every counter. */
  configure(config: ServerConfig): Promise<ServerStats> {
    return this.ask({ id: this.nextId++, cmd: "configure", config });
  }

  stats(): Promise<ServerStats> {
    return this.ask({ id: this.nextId++, cmd: "stats" });
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
  }

  private ask(command: ServerCommand): Promise<ServerStats> {
    return new Promise((resolve) => {
      this.pending.set(command.id, resolve);
      this.child.send(command);
    });
  }
}
