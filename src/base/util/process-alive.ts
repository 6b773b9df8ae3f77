/**
 * Whether process `pid` (or, for a negative number, process group `-pid`) has a process left on
 * this host. One we may not signal (EPERM) is alive; `process.kill` with signal 0 sends nothing.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
