/**
 * A user's training command, run so that it outlives spri and can be found again: it runs in a
 * process group of its own (a new session), its output goes to a log file rather than a pipe (so a
 * dead spri cannot break it with SIGPIPE), and a small POSIX shell wrapper writes its exit status
 * to a file, atomically, when it ends. With the attempt's record (pid, host, files), a later process
 * can tell whether the command still runs, how it ended, and wait for it, child or not.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { processAlive } from "../../base/util/process-alive.ts";
import { Wake } from "../../base/util/wake.ts";

/** Where a process group was started, as a record that outlives spri keeps it. */
export interface GroupOrigin {
  host: string;
  /**
   * The host's boot (Linux's boot id) when the group started: after a reboot the group is gone,
   * though a new process may have its number. Absent where the system has none.
   */
  boot?: string;
}

/** This host and this boot, for a process group started now. */
export function thisOrigin(): GroupOrigin {
  const boot = bootId();
  return { host: hostname(), ...(boot === undefined ? {} : { boot }) };
}

/** Whether a group started at `origin` may still be running here: this host, since that boot. */
export function startedHere(origin: GroupOrigin): boolean {
  return origin.host === hostname() && (origin.boot === undefined || origin.boot === bootId());
}

/** One run of the command, as the trainer state keeps it. */
export interface CommandAttempt extends GroupOrigin {
  /** 1 for the first run of the job, then one more each time it is run again. */
  n: number;
  /** The wrapper's pid, which is also the command's process group; absent until it has started. */
  pid?: number;
  /** The command's output (stdout and stderr). */
  log: string;
  /** Written when the command ends: its exit status (128 + n when a signal ended it). */
  exit: string;
  startedAt: string;
}

/**
 * Writes its own pid (the process group's) to `$2.pid` first, so that a spri killed before it saved
 * the pid can still find the attempt; then runs `$1` with sh and moves its status into `$2`. Both
 * files go through a `.tmp` file, so a reader never sees half of one.
 */
const WRAPPER = `printf '%s' "$$" > "$2.pid.tmp" && mv "$2.pid.tmp" "$2.pid"; sh -c "$1"; status=$?; printf '%s' "$status" > "$2.tmp" && mv "$2.tmp" "$2"; exit "$status"`;

/** The record of attempt `n` whose files go in `dir`. */
export function newAttempt(dir: string, n: number): CommandAttempt {
  return {
    n,
    ...thisOrigin(),
    log: `${dir}/train-command.${n}.log`,
    exit: `${dir}/train-command.${n}.exit`,
    startedAt: new Date().toISOString(),
  };
}

/** Starts `command` for `attempt` (any earlier exit file of it removed); the child's pid is the attempt's. */
export function startCommand(command: string, attempt: CommandAttempt): ChildProcess {
  mkdirSync(dirname(attempt.log), { recursive: true });
  rmSync(attempt.exit, { force: true });
  rmSync(pidFile(attempt), { force: true });
  const log = openSync(attempt.log, "a");
  try {
    return spawn("/bin/sh", ["-c", WRAPPER, "spri-train", command, attempt.exit], { detached: true, stdio: ["ignore", log, log] });
  } finally {
    closeSync(log);
  }
}

/** The attempt's exit status, once it has ended and said so. */
export function exitStatus(attempt: CommandAttempt): number | undefined {
  if (!existsSync(attempt.exit)) return undefined;
  const status = Number(readFileSync(attempt.exit, "utf8").trim());
  return Number.isInteger(status) ? status : undefined;
}

function pidFile(attempt: CommandAttempt): string {
  return `${attempt.exit}.pid`;
}

/** The attempt's pid: the saved one, else the one its wrapper wrote (spri killed before saving it). */
export function attemptPid(attempt: CommandAttempt): number | undefined {
  if (attempt.pid !== undefined) return attempt.pid;
  if (!existsSync(pidFile(attempt))) return undefined;
  const pid = Number(readFileSync(pidFile(attempt), "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether the attempt's process group is alive on this host since its boot (elsewhere it cannot be seen: false). */
export function stillRuns(attempt: CommandAttempt): boolean {
  const pid = attemptPid(attempt);
  return pid !== undefined && startedHere(attempt) && processAlive(-pid);
}

let thisBoot: { id: string | undefined } | undefined;

/** This boot of the host (Linux: /proc/sys/kernel/random/boot_id, read once); undefined where there is none. */
export function bootId(): string | undefined {
  if (!thisBoot) {
    try {
      thisBoot = { id: readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || undefined };
    } catch {
      thisBoot = { id: undefined };
    }
  }
  return thisBoot.id;
}

/** Sends `signal` to process group `pgid`; nothing when it is gone. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/** Stops the attempt's whole process group (SIGTERM); nothing when it is gone. */
export function stopCommand(attempt: CommandAttempt): void {
  const pid = attemptPid(attempt);
  if (pid !== undefined) signalGroup(pid, "SIGTERM");
}

/** SIGTERM to process group `pgid`, then waits until it is gone (SIGKILL after `graceSeconds`; a group it may not signal is left after 5 s more). */
export async function stopGroup(pgid: number, graceSeconds = 30): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  const wake = new Wake();
  const deadline = Date.now() + graceSeconds * 1000;
  while (processAlive(-pgid)) {
    if (Date.now() >= deadline + 5000) return;
    if (Date.now() >= deadline) signalGroup(pgid, "SIGKILL");
    await wake.wait(100);
  }
}

export interface WaitOptions {
  /** This process's child, when it started the attempt: its exit wakes the wait at once. */
  child?: ChildProcess;
  /** Where the log's new lines are copied as they come. */
  out: NodeJS.WritableStream;
  /** Copy the log from its start (this process's own attempt) rather than from its end now. */
  fromStart: boolean;
  pollSeconds: number;
  signal?: AbortSignal;
}

/**
 * Waits until the attempt ends and gives its exit status, or undefined when its process group is
 * gone without one (it was killed with its wrapper). Aborting stops waiting, and nothing else.
 */
export async function waitForCommand(attempt: CommandAttempt, options: WaitOptions): Promise<number | undefined> {
  const wake = new Wake();
  options.child?.once("exit", () => wake.notify());
  let offset = options.fromStart || !existsSync(attempt.log) ? 0 : statSync(attempt.log).size;
  for (;;) {
    offset = copyNew(attempt.log, offset, options.out);
    const status = exitStatus(attempt);
    if (status !== undefined) return status;
    if (!stillRuns(attempt)) {
      copyNew(attempt.log, offset, options.out);
      return exitStatus(attempt);
    }
    options.signal?.throwIfAborted();
    await wake.wait(options.pollSeconds * 1000, options.signal);
  }
}

/** Writes what `file` holds past `offset` to `out`; the new offset. */
function copyNew(file: string, offset: number, out: NodeJS.WritableStream): number {
  if (!existsSync(file)) return offset;
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(1 << 16);
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, offset);
      if (read === 0) return offset;
      out.write(Buffer.from(buffer.subarray(0, read)));
      offset += read;
    }
  } finally {
    closeSync(fd);
  }
}
