/** `spri/test`: models for users' own tests. */
export { ScriptedModel, type ScriptRule, type ScriptedAnswer, type ScriptedModelOptions } from "./models/scripted-model.ts";
export { ReplayBook, ReplayModel, loadReplayFile, entriesFromReferenceRow } from "./models/replay-model.ts";
