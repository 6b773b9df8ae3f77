/**
 * A limit on the size of one input item, checked when the input is read: an item is sent in every
 * call SPRI makes for it, so an oversized one would be paid for again and again and then fail at
 * the provider (context length, request size). It is rejected up front instead, with its line and id.
 */
import type { TaskItem } from "../../algorithms/contract/task-item.ts";
import { InputError } from "../../base/errors/errors.ts";
import { formatBytes } from "../../base/util/byte-size.ts";
import type { RowOrigin } from "./task-item.ts";

/** 1 MB: about 250,000 tokens, beyond most models' context; `--max-item-size` raises it. */
export const DEFAULT_MAX_ITEM_BYTES = 1_000_000;

/** Throws when the item's input row, as JSON, is over `maxBytes` (every field counts: algorithms may send any). */
export function checkItemSize(item: TaskItem, maxBytes: number, origin: RowOrigin): void {
  const bytes = Buffer.byteLength(JSON.stringify(item.row));
  if (bytes <= maxBytes) return;
  throw new InputError(`item "${item.id}" is ${formatBytes(bytes)}, over the ${formatBytes(maxBytes)} limit per item`, {
    ...origin,
    hint: "shorten it, or raise the limit with --max-item-size (e.g. --max-item-size 5MB)",
  });
}
