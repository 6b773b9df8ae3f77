/** A word-level diff between two versions of a text, rendered as text (never as HTML). */
import { diffWords } from "diff";
import { useMemo } from "react";

export function DiffText(props: { before: string; after: string }) {
  const parts = useMemo(() => diffWords(props.before, props.after), [props.before, props.after]);
  return (
    <pre className="text diff" data-testid="diff">
      {parts.map((part, i) =>
        part.added ? <ins key={i}>{part.value}</ins> : part.removed ? <del key={i}>{part.value}</del> : <span key={i}>{part.value}</span>,
      )}
    </pre>
  );
}
