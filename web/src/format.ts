/** Display helpers. */
export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return n.toLocaleString("en-US");
}

export function formatTokens(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (n >= 10_000) return `${(n / 1000).toFixed(0)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return String(n);
}

export function formatCost(usd: number | null | undefined, unpriced = 0): string {
  if (usd === null || usd === undefined) return unpriced > 0 ? "unpriced" : "$0";
  const text = usd >= 100 ? `$${usd.toFixed(0)}` : usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
  return unpriced > 0 ? `≥ ${text}` : text;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString("en-GB", {
    year: "numeric",
    month: "short",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** `openai-compatible:http://host/v1#model` → `model`; the full id stays in the title. */
export function shortModel(id: string | undefined): string {
  if (!id) return "–";
  const hash = id.lastIndexOf("#");
  if (hash >= 0) return id.slice(hash + 1);
  const colon = id.lastIndexOf(":");
  return colon >= 0 && !id.slice(colon + 1).startsWith("//") ? id.slice(colon + 1) : id;
}

export function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}

export const SCORE_COLORS: Record<string, string> = {
  "1": "#d64545",
  "2": "#e8833a",
  "3": "#e6c229",
  "4": "#8cc152",
  "5": "#2f9e5b",
  unscored: "#9aa3ad",
};

export function scoreColor(score: number | null | undefined): string {
  if (score === null || score === undefined) return SCORE_COLORS.unscored!;
  const rounded = Math.min(5, Math.max(1, Math.round(score)));
  return SCORE_COLORS[String(rounded)]!;
}

/** How long ago, from seconds: `4 s ago`, `3 min ago`, `2 h 5 min ago`. */
export function formatAgo(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h ago` : `${h} h ${m % 60} min ago`;
}
