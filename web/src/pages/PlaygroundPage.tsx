/** Type a question, pick task, models, τ and n_max, and watch SPRI work call by call. */
import { type FormEvent, useEffect, useRef, useState } from "react";
import { type PlaygroundEvent, type PlaygroundStartResponse, postJson, type ServerInfoResponse, useApi } from "../api.ts";
import { ErrorLine, Loading, ScoreChip, TextBlock } from "../components/Bits.tsx";
import { formatDuration, shortModel } from "../format.ts";
import { Link, itemPath, runPath } from "../router.tsx";

type CallEvent = Extract<PlaygroundEvent, { type: "call" }>;

const STEP_LABEL: Record<string, string> = {
  "principle.generate": "Principles: first draft",
  "principle.critique": "Principles: critique",
  "principle.refine": "Principles: refinement",
  "response.generate": "Response: first draft",
  "response.critique": "Response: critique",
  "response.refine": "Response: refinement",
};

export function PlaygroundPage() {
  const info = useApi<ServerInfoResponse>("/api/info");
  const defaults = info.data?.playground?.defaults;
  const [question, setQuestion] = useState("");
  const [task, setTask] = useState("");
  const [baseModel, setBaseModel] = useState("");
  const [criticModel, setCriticModel] = useState("");
  const [threshold, setThreshold] = useState("");
  const [maxCritiques, setMaxCritiques] = useState("");
  const [goal, setGoal] = useState("");
  const [reference, setReference] = useState("");
  const [error, setError] = useState<string>();
  const [started, setStarted] = useState<Extract<PlaygroundEvent, { type: "start" }>>();
  const [calls, setCalls] = useState<CallEvent[]>([]);
  const [outcome, setOutcome] = useState<Extract<PlaygroundEvent, { type: "done" | "error" }>>();
  const [busy, setBusy] = useState(false);
  const source = useRef<EventSource | null>(null);

  useEffect(() => {
    if (!defaults) return;
    setTask((t) => t || defaults.task);
    setBaseModel((m) => m || (defaults.baseModel ?? ""));
    setCriticModel((m) => m || (defaults.criticModel ?? ""));
    setThreshold((v) => v || String(defaults.threshold));
    setMaxCritiques((v) => v || String(defaults.maxCritiques));
  }, [defaults]);
  useEffect(() => () => source.current?.close(), []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setStarted(undefined);
    setCalls([]);
    setOutcome(undefined);
    source.current?.close();
    setBusy(true);
    let start: PlaygroundStartResponse;
    try {
      start = await postJson<PlaygroundStartResponse>("/api/playground", {
        question,
        task,
        baseModel: baseModel || undefined,
        criticModel: criticModel || undefined,
        threshold: threshold === "" ? undefined : Number(threshold),
        maxCritiques: maxCritiques === "" ? undefined : Number(maxCritiques),
        goal: task === "reappraisal" ? goal : undefined,
        reference: task === "rubric" && reference ? reference : undefined,
      });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
      return;
    }
    const events = new EventSource(`/api/playground/${encodeURIComponent(start.runId)}/events`);
    source.current = events;
    const parse = (e: Event) => JSON.parse((e as MessageEvent<string>).data) as PlaygroundEvent;
    events.addEventListener("start", (e) => setStarted(parse(e) as Extract<PlaygroundEvent, { type: "start" }>));
    events.addEventListener("call", (e) => {
      const call = parse(e) as CallEvent;
      setCalls((old) => (old.some((c) => c.index === call.index) ? old : [...old, call]));
    });
    const finish = (e: Event) => {
      setOutcome(parse(e) as Extract<PlaygroundEvent, { type: "done" | "error" }>);
      setBusy(false);
      events.close();
    };
    events.addEventListener("done", finish);
    events.addEventListener("error", (e) => {
      if ((e as MessageEvent).data) finish(e);
      else if (events.readyState === EventSource.CLOSED) setBusy(false);
    });
  };

  if (info.error)
    return (
      <div className="page">
        <ErrorLine error={info.error} />
      </div>
    );
  if (!info.data)
    return (
      <div className="page">
        <Loading />
      </div>
    );
  const playground = info.data.playground;
  if (!playground) {
    return (
      <div className="page">
        <h1>Playground</h1>
        <p className="muted">
          The playground is off: start <code>spri view</code> without <code>--no-playground</code>, with the model settings it should use
          (e.g. <code>--base-url</code> and <code>--base-model</code>).
        </p>
      </div>
    );
  }

  return (
    <div className="page" data-testid="playground">
      <div className="page-head">
        <h1>Playground</h1>
        <div className="muted small">One question through SPRI; the result is saved as a run.</div>
      </div>
      <form className="card form" onSubmit={submit}>
        <label className="wide">
          Question
          <textarea
            value={question}
            onChange={(e) => setQuestion(e.target.value)}
            rows={4}
            required
            placeholder="How do I tell my team I need to step back from a project?"
            data-testid="pg-question"
          />
        </label>
        <label>
          Task
          <select value={task} onChange={(e) => setTask(e.target.value)}>
            {playground.tasks.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Base model
          <input value={baseModel} onChange={(e) => setBaseModel(e.target.value)} placeholder="model id" />
        </label>
        <label>
          Critic model
          <input value={criticModel} onChange={(e) => setCriticModel(e.target.value)} placeholder="model id" />
        </label>
        <label>
          τ (accept at score)
          <input type="number" min={1} max={5} step={0.5} value={threshold} onChange={(e) => setThreshold(e.target.value)} />
        </label>
        <label>
          n_max (critiques)
          <input type="number" min={1} max={10} step={1} value={maxCritiques} onChange={(e) => setMaxCritiques(e.target.value)} />
        </label>
        {task === "reappraisal" && (
          <label className="wide">
            Response goal
            <input value={goal} onChange={(e) => setGoal(e.target.value)} required />
          </label>
        )}
        {task === "rubric" && (
          <label className="wide">
            Reference answer (optional)
            <textarea value={reference} onChange={(e) => setReference(e.target.value)} rows={2} />
          </label>
        )}
        <div className="wide">
          <button type="submit" className="primary" disabled={busy || question.trim() === ""} data-testid="pg-start">
            {busy ? "Running…" : "Run SPRI"}
          </button>
          <span className="muted small">
            {" "}
            Endpoints and keys come from the settings <code>spri view</code> was started with.
          </span>
        </div>
      </form>
      <ErrorLine error={error} />
      {started && (
        <section className="card" data-testid="pg-live">
          <div className="card-head">
            <h2>
              {started.task} · base {shortModel(started.baseModel)} · critic {shortModel(started.criticModel)} · τ={started.threshold} ·
              n_max={started.maxCritiques}
            </h2>
            <Link to={runPath(started.runId)}>open run</Link>
          </div>
          <ol className="timeline">
            {calls.map((call) => (
              <li
                key={call.index}
                className={`step ${call.step.endsWith("critique") ? "step-critique" : call.step.endsWith("refine") ? "step-refined" : "step-draft"}`}
              >
                <div className="step-head">
                  <strong>
                    {STEP_LABEL[call.step] ?? call.step}
                    {call.iteration > 0 ? ` ${call.iteration}` : ""}
                  </strong>
                  {call.score !== undefined && (
                    <span className="step-score">
                      score <ScoreChip score={call.score} />
                    </span>
                  )}
                  <span className="muted small right">
                    {shortModel(call.model)} · {call.inputTokens}+{call.outputTokens} tokens · {formatDuration(call.latencyMs)}
                  </span>
                </div>
                {call.error ? <p className="error">{call.error}</p> : <TextBlock value={call.response ?? ""} />}
              </li>
            ))}
            {busy && <li className="step muted">waiting for the next call…</li>}
          </ol>
          {outcome?.type === "done" && (
            <p data-testid="pg-done">
              Done. <Link to={itemPath(outcome.runId, outcome.itemId)}>Open the item</Link> to see every version side by side.
            </p>
          )}
          {outcome?.type === "error" && <p className="error">{outcome.message}</p>}
        </section>
      )}
    </div>
  );
}
