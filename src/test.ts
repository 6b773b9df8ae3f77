/** `spri/test`: models and a fake model server for users' own tests. */
export { ScriptedModel, type ScriptRule, type ScriptedAnswer, type ScriptedModelOptions } from "./models/scripted-model.ts";
export { ReplayBook, ReplayModel, loadReplayFile, entriesFromReferenceRow } from "./models/replay-model.ts";
export {
  type FakeModelServer,
  type FakeModelServerOptions,
  type FakeServerLoad,
  type FakeServerStats,
  startFakeModelServer,
} from "./models/fake-server/fake-model-server.ts";
export {
  type FakeReply,
  type RecordedRequest,
  type Responder,
  anthropicError,
  anthropicText,
  cutBody,
  hang,
  json,
  openaiCompletion,
  openaiEchoLogprobs,
  openaiError,
  openaiText,
  raw,
  resetConnection,
  streamBody,
  textReply,
  wordTokens,
} from "./models/fake-server/fake-replies.ts";
export { answerWith } from "./models/fake-server/model-responder.ts";
export {
  type ReceivedRequest,
  type ReplayBooks,
  type ReplayServer,
  replayResponder,
  startReplayServer,
} from "./models/fake-server/replay-responder.ts";
export {
  type FakeBatch,
  type FakeBatchServer,
  type FakeFile,
  fakeBatchApi,
  startFakeBatchServer,
} from "./models/fake-server/fake-batch-api.ts";
export {
  type FakeFineTuningJob,
  type FakeFineTuningServer,
  fakeFineTuningApi,
  startFakeFineTuningServer,
} from "./models/fake-server/fake-fine-tuning-api.ts";
export {
  type FakeHubApi,
  type FakeHubApiOptions,
  type FakeHubDatasets,
  type FakeHubServer,
  fakeHubApi,
  startFakeHubServer,
} from "./models/fake-server/fake-hub-api.ts";
