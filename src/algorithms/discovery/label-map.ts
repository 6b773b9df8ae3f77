/**
 * Label replacement with a constitution (stape-spec §2.3 R): a principle is replaced by the
 * representative whose example members contain it (normalised), else by the one nearest to it by
 * Rouge-L F1. The constitution keeps only a few example members per cluster, so a labelled copy
 * (`zCanonical`) is preferred where there is one.
 */
import { InputError } from "../../base/errors/errors.ts";
import { normalisePrinciple } from "./mined-principle.ts";
import { principleKey } from "./principle-set.ts";
import { rougeL } from "./rouge-l.ts";

/** What label replacement needs of a constitution (src/algorithms/discovery/constitution.ts). */
export interface ConstitutionLike {
  principles: readonly { id: string | number; text: string; members?: readonly unknown[] }[];
}

export interface LabelMap {
  /** The representative of a principle, and how it was found. */
  lookup(principle: string): { text: string; id: string; how: "member" | "nearest" };
}

function memberText(member: unknown): string | undefined {
  if (typeof member === "string") return member;
  if (member && typeof member === "object") {
    const m = member as Record<string, unknown>;
    for (const key of ["text", "principle", "z"]) if (typeof m[key] === "string") return m[key] as string;
  }
  return undefined;
}

function key(text: string): string {
  return principleKey(normalisePrinciple(text));
}

export function labelMap(constitution: ConstitutionLike): LabelMap {
  if (constitution.principles.length === 0)
    throw new InputError("the constitution holds no principles", { hint: "cluster a non-empty set of principles first" });
  const byMember = new Map<string, { text: string; id: string }>();
  for (const p of constitution.principles) {
    const rep = { text: p.text, id: String(p.id) };
    byMember.set(key(p.text), rep);
    for (const m of p.members ?? []) {
      const text = memberText(m);
      if (text !== undefined && !byMember.has(key(text))) byMember.set(key(text), rep);
    }
  }
  return {
    lookup(principle) {
      const hit = byMember.get(key(principle));
      if (hit) return { ...hit, how: "member" };
      let best = constitution.principles[0]!;
      let bestScore = -1;
      for (const p of constitution.principles) {
        const score = rougeL(p.text, principle).fmeasure;
        if (score > bestScore) {
          bestScore = score;
          best = p;
        }
      }
      return { text: best.text, id: String(best.id), how: "nearest" };
    },
  };
}
