/**
 * Where a record's question is found when no field is named: the one list the task presets
 * (tasks/task-item), the exports and pairwise judging (io/exports) and the viewer (server/item-view)
 * read, each in this order.
 */

/** The common names, in the order tried; the reference's scripts read `user_input`, the first. */
export const QUESTION_FIELDS: readonly string[] = ["user_input", "prompt", "instruction", "question", "input"];

/** The reappraisal task's posts (ESConv / Reddit data). */
export const POST_FIELDS: readonly string[] = ["Reddit Post", "post"];

/** Every name a question has in a record of any task: the common ones first, the posts last. */
export const ANY_QUESTION_FIELDS: readonly string[] = [...QUESTION_FIELDS, ...POST_FIELDS];
