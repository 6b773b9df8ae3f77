/**
 * Sizes as people write them: `1000`, `512KB`, `1.5MB`, `2MiB`. KB, MB and GB are powers of 1000,
 * KiB, MiB and GiB powers of 1024, as disk tools count them.
 */
import { ConfigError } from "../errors/errors.ts";

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** A size in bytes; `flag` names the option in the error. */
export function parseByteSize(value: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = UNITS[(match?.[2] || "b").toLowerCase()];
  const bytes = match && unit ? Math.floor(Number(match[1]) * unit) : Number.NaN;
  if (!(bytes >= 1)) {
    throw new ConfigError(`${flag} must be a size such as 500KB, 2MB or 1048576 (bytes), got ${JSON.stringify(value)}`, {
      field: flag.replace(/^--/, ""),
    });
  }
  return bytes;
}

/** `1.1 MB`, `512 KB`, `200 bytes`: decimal units, one decimal at most. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const [unit, size] = bytes < 1e6 ? ["KB", 1e3] : bytes < 1e9 ? ["MB", 1e6] : ["GB", 1e9];
  return `${Number((bytes / size).toFixed(1))} ${unit}`;
}
