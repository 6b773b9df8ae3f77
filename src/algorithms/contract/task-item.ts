/**
 * One input item as every algorithm sees it. Which row fields fill it (flags, per-task defaults) is
 * the tasks' business (tasks/task-item.ts); the shape is the contract.
 */
export interface TaskItem {
  id: string;
  question: string;
  /** reappraisal: the response goal. */
  goal?: string;
  /** rubric: a reference answer (the rubric is reference-free without one). */
  reference?: string;
  /** rubric: the system prompt shown with the input. */
  systemPrompt?: string;
  /** The value seeds are filtered on with --seeds-per-domain. */
  domain?: string;
  /** Which of the item's runs this is under `--samples` (0 to N-1); absent with one run per item. */
  sample?: number;
  /** The input row as read, for algorithms that read fields of their own. */
  row: Record<string, unknown>;
}
