/**
 * How a judge's scores agree with human scores: Pearson, Spearman, MAE and Krippendorff's alpha per
 * group, their mean over groups and the pooled values. Judge runs show it without p-values,
 * `spri eval correlate` reports with them.
 */
import { num, TableHead } from "./Bits.tsx";

export interface Agreement {
  pearson: number | null | undefined;
  spearman: number | null | undefined;
  mae: number | null | undefined;
  alpha: number | null | undefined;
  /** Shown only when the table has p columns; left out, the cell is empty. */
  pearsonP?: number | null;
  spearmanP?: number | null;
}

export function CorrelationTable(props: {
  groupBy: string | null;
  groups: (Agreement & { name: string; n: number })[];
  mean: Agreement;
  pooled: Agreement & { n: number };
  format: (value: number | null | undefined) => string;
  /** Adds a p column after Pearson and after Spearman. */
  formatP?: (p: number | null) => string;
  testId?: string;
}) {
  const { format, formatP } = props;
  const p = (value: number | null | undefined) => formatP && (value === undefined ? <td /> : <td className="num">{formatP(value)}</td>);
  const cells = (a: Agreement) => (
    <>
      <td className="num">{format(a.pearson)}</td>
      {p(a.pearsonP)}
      <td className="num">{format(a.spearman)}</td>
      {p(a.spearmanP)}
      <td className="num">{format(a.mae)}</td>
      <td className="num">{format(a.alpha)}</td>
    </>
  );
  const pColumn = formatP ? [num("p")] : [];
  return (
    <table className="table compact" data-testid={props.testId}>
      <TableHead
        columns={[props.groupBy ?? "group", num("n"), num("Pearson"), ...pColumn, num("Spearman"), ...pColumn, num("MAE"), num("α")]}
      />
      <tbody>
        {props.groups.map((g) => (
          <tr key={g.name}>
            <td>{g.name}</td>
            <td className="num">{g.n}</td>
            {cells(g)}
          </tr>
        ))}
        <tr className="total">
          <td>mean of groups</td>
          <td />
          {cells(props.mean)}
        </tr>
        <tr className="total">
          <td>pooled</td>
          <td className="num">{props.pooled.n}</td>
          {cells(props.pooled)}
        </tr>
      </tbody>
    </table>
  );
}
