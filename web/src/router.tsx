/** A tiny history router: the app's few routes need no library. */
import { type MouseEvent, type ReactNode, useSyncExternalStore } from "react";

const CHANGE = "spri:navigate";

function subscribe(callback: () => void): () => void {
  window.addEventListener("popstate", callback);
  window.addEventListener(CHANGE, callback);
  return () => {
    window.removeEventListener("popstate", callback);
    window.removeEventListener(CHANGE, callback);
  };
}

export function useLocation(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname + window.location.search);
}

export function navigate(to: string): void {
  if (to === window.location.pathname + window.location.search) return;
  window.history.pushState(null, "", to);
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(CHANGE));
}

export function Link(props: { to: string; children: ReactNode; className?: string; title?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} onClick={onClick} className={props.className} title={props.title}>
      {props.children}
    </a>
  );
}

export type Route =
  | { page: "runs" }
  | { page: "run"; runId: string }
  | { page: "item"; runId: string; itemId: string }
  | { page: "playground" }
  | { page: "iterations" }
  | { page: "missing" };

export function parseRoute(location: string): Route {
  const path = location.split("?")[0] ?? "/";
  const parts = path
    .split("/")
    .filter(Boolean)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
  if (parts.length === 0) return { page: "runs" };
  if (parts[0] === "playground" && parts.length === 1) return { page: "playground" };
  if (parts[0] === "iterations" && parts.length === 1) return { page: "iterations" };
  if (parts[0] === "runs" && parts.length === 2) return { page: "run", runId: parts[1]! };
  if (parts[0] === "runs" && parts.length === 4 && parts[2] === "items") return { page: "item", runId: parts[1]!, itemId: parts[3]! };
  return { page: "missing" };
}

export const runPath = (runId: string) => `/runs/${encodeURIComponent(runId)}`;
export const itemPath = (runId: string, itemId: string) => `/runs/${encodeURIComponent(runId)}/items/${encodeURIComponent(itemId)}`;
