/**
 * A local model's first download on stderr (the default one is about a gigabyte): on a terminal
 * one line rewritten in place, elsewhere a line at each further tenth, so logs stay short.
 */
import type { DownloadProgress } from "../../config/models.ts";
import { formatMiB } from "../../base/util/format-mib.ts";

export function downloadProgress(stream: NodeJS.WriteStream = process.stderr): (progress: DownloadProgress) => void {
  let announced = false;
  let lastTenth = -1;
  return ({ model, directory, downloadedBytes, totalBytes }) => {
    if (!announced) {
      announced = true;
      stream.write(`spri: downloading ${model} into ${directory} (once; later runs use the copy)\n`);
    }
    const percent = totalBytes > 0 ? Math.min(100, Math.floor((downloadedBytes * 100) / totalBytes)) : 0;
    const line = `spri: downloading ${model}: ${formatMiB(downloadedBytes)} of ${formatMiB(totalBytes)} (${percent}%)`;
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${line}${percent === 100 ? "\n" : ""}`);
      return;
    }
    const tenth = Math.floor(percent / 10);
    if (tenth <= lastTenth) return;
    lastTenth = tenth;
    stream.write(`${line}\n`);
  };
}
