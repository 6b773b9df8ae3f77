/**
 * A run's items in a virtualised table: only the rows in view are in the page, and they are fetched
 * 200 at a time as the list scrolls, so a run of 100,000 items stays fast.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useRef, useState } from "react";
import { enc, getJson, type ItemListResponse, type ItemSort, type ItemStatus, type ItemSummary } from "../api.ts";
import { formatNumber } from "../format.ts";
import { itemPath, navigate } from "../router.tsx";
import { ScoreChips, StatusBadge } from "./Bits.tsx";

const PAGE = 200;
const ROW = 36;

const SORTS: { value: ItemSort; label: string }[] = [
  { value: "seq", label: "input order" },
  { value: "-seq", label: "input order, last first" },
  { value: "id", label: "item id" },
  { value: "-id", label: "item id, descending" },
  { value: "-updated", label: "recently updated" },
  { value: "updated", label: "least recently updated" },
];

export function ItemsTable(props: { runId: string; version: number }) {
  const [status, setStatus] = useState<ItemStatus | "">("");
  const [sort, setSort] = useState<ItemSort>("seq");
  const [total, setTotal] = useState<number | null>(null);
  const [pages, setPages] = useState<Map<number, ItemSummary[]>>(new Map());
  const [error, setError] = useState<string>();
  const loading = useRef(new Set<number>());
  const generation = useRef(0);
  const scrollRef = useRef<HTMLDivElement>(null);

  const query = `status=${enc(status)}&sort=${enc(sort)}`;

  const load = useCallback(
    (page: number) => {
      if (loading.current.has(page)) return;
      loading.current.add(page);
      const gen = generation.current;
      getJson<ItemListResponse>(`/api/runs/${enc(props.runId)}/items?limit=${PAGE}&offset=${page * PAGE}&${query}`).then(
        (body) => {
          if (gen !== generation.current) return;
          loading.current.delete(page);
          setTotal(body.total);
          setPages((old) => new Map(old).set(page, body.items));
        },
        (err: unknown) => {
          if (gen !== generation.current) return;
          loading.current.delete(page);
          setError(err instanceof Error ? err.message : String(err));
        },
      );
    },
    [props.runId, query],
  );

  // A new filter, sort or run version starts over (the version changes as a live run progresses).
  useEffect(() => {
    generation.current++;
    loading.current = new Set();
    setPages(new Map());
    setError(undefined);
    load(0);
  }, [load, props.version]);

  const count = total ?? 0;
  const virtualizer = useVirtualizer({ count, getScrollElement: () => scrollRef.current, estimateSize: () => ROW, overscan: 12 });
  const rows = virtualizer.getVirtualItems();

  useEffect(() => {
    const wanted = new Set(rows.map((row) => Math.floor(row.index / PAGE)));
    for (const page of wanted) if (!pages.has(page)) load(page);
  }, [rows, pages, load]);

  return (
    <section className="card" data-testid="items">
      <div className="card-head">
        <h2>Items {total !== null && <span className="muted">({formatNumber(total)})</span>}</h2>
        <div className="controls">
          <label>
            Status{" "}
            <select value={status} onChange={(e) => setStatus(e.target.value as ItemStatus | "")} data-testid="item-status-filter">
              <option value="">all</option>
              <option value="done">done</option>
              <option value="failed">failed</option>
              <option value="pending">pending</option>
            </select>
          </label>
          <label>
            Sort{" "}
            <select value={sort} onChange={(e) => setSort(e.target.value as ItemSort)}>
              {SORTS.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      {error && <p className="error">{error}</p>}
      <div className="vtable" role="table" aria-rowcount={count}>
        <div className="vrow vhead" role="row">
          <span role="columnheader">#</span>
          <span role="columnheader">Item</span>
          <span role="columnheader">Status</span>
          <span role="columnheader">Question</span>
          <span role="columnheader" title="critic scores of the principles, per iteration">
            Principles
          </span>
          <span role="columnheader" title="critic scores of the response, per iteration">
            Response
          </span>
          <span role="columnheader" className="num">
            Calls
          </span>
        </div>
        <div className="vbody" ref={scrollRef} style={{ height: Math.min(440, Math.max(count, 1) * ROW + 2) }}>
          {count === 0 && total !== null && <p className="muted pad">No items{status ? ` with status ${status}` : ""}.</p>}
          <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {rows.map((row) => {
              const item = pages.get(Math.floor(row.index / PAGE))?.[row.index % PAGE];
              const open = () => item && navigate(itemPath(props.runId, item.itemId));
              return (
                <div
                  key={row.key}
                  className="vrow"
                  role="row"
                  data-testid={item ? `item-row-${item.itemId}` : undefined}
                  style={{ position: "absolute", top: 0, left: 0, right: 0, height: ROW, transform: `translateY(${row.start}px)` }}
                  onClick={open}
                  tabIndex={0}
                  onKeyDown={(e) => e.key === "Enter" && open()}
                >
                  {item ? (
                    <>
                      <span className="muted">{row.index + 1}</span>
                      <span className="mono ellipsis" title={item.itemId}>
                        {item.itemId}
                      </span>
                      <span>
                        <StatusBadge status={item.status} />
                      </span>
                      <span className="ellipsis" title={item.reason ?? item.question}>
                        {item.status === "failed" && item.reason ? (
                          <span className="error-text">{item.reason}</span>
                        ) : (
                          (item.question ?? "")
                        )}
                      </span>
                      <span>
                        <ScoreChips scores={item.principleScores} />
                      </span>
                      <span>
                        <ScoreChips scores={item.responseScores} />
                      </span>
                      <span className="num">{item.calls ?? "–"}</span>
                    </>
                  ) : (
                    <span className="muted">…</span>
                  )}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </section>
  );
}
