/**
 * Principles before clustering: normalised (whitespace collapsed, a "Principle:" label stripped) and
 * de-duplicated case-insensitively with counts, so each distinct principle is embedded once.
 */
/**
 * Trims, collapses whitespace and strips a leading "Principle:" label; nothing else. Clustering takes
 * principles as the user gives them, so quotes, list marks and numbering stay part of the text (and
 * of the constitution that quotes them back). Not `normalisePrinciple` (mined-principle.ts), which
 * cleans a model's own answer: it also strips bullets, "Principle 2:" numbering and wrapping quotes.
 */
export function withoutPrincipleLabel(text: string): string {
  return text
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^(?:\*\*)?principle(?:\*\*)?\s*:\s*(?:\*\*)?\s*/i, "")
    .trim();
}

/** The de-duplication key: the normalised text, case-folded. */
export function principleKey(text: string): string {
  return withoutPrincipleLabel(text).toLowerCase();
}

export interface UniquePrinciple {
  key: string;
  /** The most frequent spelling among its case variants (the first seen on ties). */
  text: string;
  /** How often it occurred, duplicates included. */
  count: number;
}

/** Principles de-duplicated case-insensitively after normalisation, with counts, in first-seen order. */
export class PrincipleSet {
  private readonly index = new Map<string, number>();
  private readonly entries: Array<{ key: string; count: number; variants: Map<string, number> }> = [];
  mentions = 0;

  /** Adds one occurrence; returns the principle's index, or undefined for an empty text. */
  add(text: string): number | undefined {
    const normalized = withoutPrincipleLabel(text);
    if (normalized === "") return undefined;
    const key = normalized.toLowerCase();
    let position = this.index.get(key);
    if (position === undefined) {
      position = this.entries.length;
      this.index.set(key, position);
      this.entries.push({ key, count: 0, variants: new Map() });
    }
    const entry = this.entries[position]!;
    entry.count++;
    entry.variants.set(normalized, (entry.variants.get(normalized) ?? 0) + 1);
    this.mentions++;
    return position;
  }

  indexOf(text: string): number | undefined {
    return this.index.get(principleKey(text));
  }

  get size(): number {
    return this.entries.length;
  }

  unique(): UniquePrinciple[] {
    return this.entries.map(({ key, count, variants }) => {
      let text = "";
      let best = 0;
      for (const [variant, n] of variants) {
        if (n > best) {
          best = n;
          text = variant;
        }
      }
      return { key, text, count };
    });
  }
}
