import { useMemo } from "react";
import type { ConstitutionResponse } from "../api.ts";
import { formatNumber } from "../format.ts";
import { ErrorLine, Loading, num, TableHead } from "./Bits.tsx";
import { CLUSTER_COLORS, ClusterMap, OTHER_CLUSTER_COLOR } from "./Charts.tsx";

/** Discovery runs: the constitution's principles by cluster size, and the principles' 2-D map. */
export function ConstitutionSection(props: { data?: ConstitutionResponse; error?: string }) {
  const d = props.data;
  const principles = useMemo(() => (d ? [...d.constitution.principles].sort((a, b) => b.size - a.size) : []), [d]);
  const colors = useMemo(() => new Map(principles.slice(0, CLUSTER_COLORS.length).map((p, i) => [p.id, CLUSTER_COLORS[i]!])), [principles]);
  return (
    <section className="card" data-testid="constitution">
      <h2>Constitution</h2>
      <ErrorLine error={props.error} />
      {!d ? (
        !props.error && <Loading />
      ) : (
        <>
          <p className="muted small">
            {formatNumber(principles.length)} principles from {formatNumber(principles.reduce((s, p) => s + p.size, 0))} mentions; the map
            shows {formatNumber(d.map.length)} unique principles (PCA of their embeddings), the ten largest clusters in colour.
          </p>
          <ClusterMap title="Principles (2-D PCA map)" points={d.map} colors={colors} testId="constitution-map" />
          <table className="table compact" data-testid="constitution-table">
            <TableHead columns={["Id", "Principle", num("Size"), num("Unique"), "Members (examples)"]} />
            <tbody>
              {principles.map((p) => (
                <tr key={p.id}>
                  <td className="mono">
                    <svg className="swatch" viewBox="0 0 10 10" aria-hidden="true">
                      <rect width="10" height="10" rx="2" fill={colors.get(p.id) ?? OTHER_CLUSTER_COLOR} />
                    </svg>{" "}
                    {p.id}
                  </td>
                  <td className="wrap">
                    {p.name && <strong>{p.name}: </strong>}
                    {p.text}
                  </td>
                  <td className="num">{formatNumber(p.size)}</td>
                  <td className="num">{p.uniqueMembers === undefined ? "–" : formatNumber(p.uniqueMembers)}</td>
                  <td className="wrap small">{p.members.slice(0, 3).join(" · ") || <span className="muted">–</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
