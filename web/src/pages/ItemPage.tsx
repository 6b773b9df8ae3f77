/** One item: its input, each stage from first draft to final with every critique, and its calls. */
import { useState } from "react";
import { type CallListResponse, enc, type ItemDetailResponse, type StageStep, type StageView, type StoredCall, useApi } from "../api.ts";
import { ErrorLine, Loading, ScoreChip, ScoreChips, StatusBadge, TextBlock } from "../components/Bits.tsx";
import { DiffText } from "../components/DiffText.tsx";
import { formatDate, formatDuration, formatNumber, shortId, shortModel } from "../format.ts";
import { Link, runPath } from "../router.tsx";

export function ItemPage(props: { runId: string; itemId: string }) {
  const item = useApi<ItemDetailResponse>(`/api/runs/${enc(props.runId)}/items/${enc(props.itemId)}`);
  const d = item.data;
  return (
    <div className="page" data-testid="item-page">
      <nav className="crumbs">
        <Link to="/">Runs</Link> <span>/</span> <Link to={runPath(props.runId)}>{shortId(props.runId)}</Link> <span>/</span>{" "}
        <span className="mono">{props.itemId}</span>
      </nav>
      <ErrorLine error={item.error} />
      {!d && !item.error && <Loading />}
      {d && (
        <>
          <div className="page-head">
            <h1>
              Item <span className="mono">{d.itemId}</span> <StatusBadge status={d.status} />
            </h1>
            <div className="muted small">
              updated {formatDate(d.updatedAt)} · {d.attempts} attempt{d.attempts === 1 ? "" : "s"}
            </div>
          </div>
          {d.reason && (
            <p className="error" data-testid="item-reason">
              {d.reason}
            </p>
          )}
          <section className="card">
            <h2>Input</h2>
            {Object.keys(d.input).length === 0 ? (
              <p className="muted">No record stored for this item{d.status === "pending" ? " yet" : ""}.</p>
            ) : (
              <FieldList fields={d.input} />
            )}
          </section>
          {d.stages.map((stage) => (
            <StageCard key={stage.name} stage={stage} />
          ))}
          {Object.keys(d.other).length > 0 && (
            <section className="card">
              <h2>Other fields</h2>
              <FieldList fields={d.other} />
            </section>
          )}
          <Calls runId={props.runId} itemId={props.itemId} />
          {d.record && (
            <section className="card">
              <details>
                <summary>Output record (JSON)</summary>
                <TextBlock value={d.record} />
              </details>
            </section>
          )}
        </>
      )}
    </div>
  );
}

const STEP_TITLE: Record<StageStep["kind"], string> = { draft: "First draft", critique: "Critique", refined: "Refinement" };

function StageCard(props: { stage: StageView }) {
  const { stage } = props;
  const title = stage.name === "principles" ? "Principles" : "Response";
  let previous: string | undefined;
  const versions = new Map<StageStep, string | undefined>();
  for (const step of stage.steps) {
    if (step.kind === "critique") continue;
    versions.set(step, previous);
    previous = step.text;
  }
  const finalChanged = stage.final !== undefined && stage.final !== previous;
  return (
    <section className="card stage" data-testid={`stage-${stage.name}`}>
      <div className="card-head">
        <h2>{title}</h2>
        <div className="small">
          {stage.iterations !== undefined && (
            <span data-testid={`iterations-${stage.name}`}>
              {stage.iterations} iteration{stage.iterations === 1 ? "" : "s"}
            </span>
          )}{" "}
          {stage.scores && (
            <span className="muted">
              · scores <ScoreChips scores={stage.scores} />
            </span>
          )}
        </div>
      </div>
      <ol className="timeline">
        {stage.steps.map((step, i) => (
          <li key={i} className={`step step-${step.kind}`} data-testid={`${stage.name}-${step.kind}-${step.iteration}`}>
            <div className="step-head">
              <strong>
                {STEP_TITLE[step.kind]}
                {step.kind !== "draft" ? ` ${step.iteration}` : ""}
              </strong>
              {step.kind === "critique" && step.score !== undefined && (
                <span className="step-score">
                  score <ScoreChip score={step.score} />
                </span>
              )}
            </div>
            {step.kind === "refined" ? (
              <Version text={step.text} before={versions.get(step)} />
            ) : (
              <TextBlock value={step.text} className={step.kind === "critique" ? "feedback" : ""} />
            )}
            {step.error && <p className="error small">{step.error}</p>}
          </li>
        ))}
        {stage.final !== undefined && (
          <li className="step step-final" data-testid={`${stage.name}-final`}>
            <div className="step-head">
              <strong>Final</strong>
              {!finalChanged && <span className="muted small">the last version above</span>}
            </div>
            <TextBlock value={stage.final} testId={`${stage.name}-final-text`} />
          </li>
        )}
      </ol>
    </section>
  );
}

function Version(props: { text: string; before?: string }) {
  const [diff, setDiff] = useState(true);
  if (props.before === undefined) return <TextBlock value={props.text} />;
  return (
    <div>
      <div className="toggle small">
        <button className={diff ? "active" : ""} onClick={() => setDiff(true)}>
          changes
        </button>
        <button className={diff ? "" : "active"} onClick={() => setDiff(false)}>
          text
        </button>
      </div>
      {diff ? <DiffText before={props.before} after={props.text} /> : <TextBlock value={props.text} />}
    </div>
  );
}

function Calls(props: { runId: string; itemId: string }) {
  const [open, setOpen] = useState(false);
  const calls = useApi<CallListResponse>(open ? `/api/runs/${enc(props.runId)}/items/${enc(props.itemId)}/calls` : null);
  return (
    <section className="card" data-testid="calls">
      <div className="card-head">
        <h2>Model calls</h2>
        <button onClick={() => setOpen((o) => !o)} data-testid="toggle-calls">
          {open ? "Hide calls" : "Show calls"}
        </button>
      </div>
      {open && <ErrorLine error={calls.error} />}
      {open && !calls.data && !calls.error && <Loading />}
      {open &&
        calls.data &&
        (calls.data.calls.length === 0 ? (
          <p className="muted">No calls recorded for this item.</p>
        ) : (
          calls.data.calls.map((call, i) => <CallCard key={i} call={call} index={i} />)
        ))}
    </section>
  );
}

function CallCard(props: { call: StoredCall; index: number }) {
  const { call } = props;
  return (
    <details className="call" data-testid="call">
      <summary>
        <span className="muted">#{props.index + 1}</span> <span className="mono">{call.step}</span>
        {call.iteration > 0 && <span className="muted"> iter {call.iteration}</span>}
        {(call.attempt ?? 0) > 0 && <span className="muted"> attempt {call.attempt}</span>}
        <span className="pill">{call.role}</span>
        <span title={call.endpoint}>{shortModel(call.model)}</span>
        {call.parsed?.score !== undefined && <ScoreChip score={call.parsed.score} />}
        <span className="muted small right">
          {formatNumber(call.usage.inputTokens)} in · {formatNumber(call.usage.outputTokens)} out · {formatDuration(call.latencyMs)}
          {call.cacheHit ? " · cache hit" : ""}
        </span>
        {call.error && <span className="error-text"> error</span>}
      </summary>
      <div className="call-body">
        {call.error && <p className="error">{call.error}</p>}
        <h3>Messages</h3>
        {call.request.messages.map((m, i) => (
          <div key={i} className="message">
            <div className="message-role">{m.role}</div>
            <TextBlock value={m.content} />
          </div>
        ))}
        <h3>Output</h3>
        {call.response === null ? <p className="muted">No output.</p> : <TextBlock value={call.response} />}
        <p className="muted small">
          started {formatDate(call.startedAt)}
          {call.finishReason ? ` · finish: ${call.finishReason}` : ""} · sampling {JSON.stringify(call.request.sampling)}
        </p>
      </div>
    </details>
  );
}

/** A record's fields as a definition list, every value shown as text. */
function FieldList(props: { fields: Record<string, unknown> }) {
  return (
    <dl className="fields">
      {Object.entries(props.fields).map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>
            <TextBlock value={value} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
