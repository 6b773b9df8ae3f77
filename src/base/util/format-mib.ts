/** A size in MiB as messages show it: `32 MiB`, `0.5 MiB`, `1007.61 MiB`. */
export function formatMiB(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 100) / 100} MiB`;
}
