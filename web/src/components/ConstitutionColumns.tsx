/**
 * Each iteration's constitution in a column of its own, rows aligned by cluster label (the server
 * aligns them: discovery/constitution-alignment.ts). A principle the previous constitution lacked
 * is marked new; a label it had and this one lacks shows as dropped.
 */
import type { AlignedCell, IterationsResponse } from "../api.ts";
import { formatNumber } from "../format.ts";

export function ConstitutionColumns(props: { data: IterationsResponse }) {
  const { columns, rows } = props.data.constitutions;
  const models = new Map(props.data.iterations.map((row) => [row.iter, row.model]));
  const sizes = columns.map((_, i) => rows.filter((row) => row.cells[i] && "principle" in row.cells[i]!).length);
  if (rows.length === 0 && columns.every((c) => c.error === null)) return <p className="muted">No iteration has a constitution yet.</p>;
  return (
    <div className="scroll-x">
      <table className="table compact side-by-side" data-testid="iter-constitutions">
        <thead>
          <tr>
            {columns.map((column, i) => (
              <th key={column.iter}>
                Iteration {column.iter}
                <div className="muted small">
                  {models.get(column.iter) ?? "no model yet"} ·{" "}
                  {column.file === null ? "no constitution" : `${formatNumber(sizes[i])} principles`}
                </div>
                {column.error && <div className="error small">{column.error}</div>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            <tr key={r} data-testid="const-row">
              {row.cells.map((cell, i) => (
                <Cell key={columns[i]!.iter} iter={columns[i]!.iter} cell={cell} />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Cell(props: { iter: number; cell: AlignedCell }) {
  const { cell } = props;
  if (cell === null) return <td data-iter={props.iter} />;
  if (!("principle" in cell))
    return (
      <td data-iter={props.iter} data-change="dropped" className="dropped">
        dropped
      </td>
    );
  const p = cell.principle;
  return (
    <td data-iter={props.iter} data-change={cell.change ?? undefined} className={`wrap${cell.change === "new" ? " added" : ""}`}>
      {(cell.change === "new" || p.name) && (
        <div>
          {cell.change === "new" && <span className="badge mark-new">new</span>}
          {cell.change === "new" && p.name && " "}
          {p.name && <strong>{p.name}</strong>}
        </div>
      )}
      <div>{p.text}</div>
      <div className="muted small">size {formatNumber(p.size)}</div>
    </td>
  );
}
