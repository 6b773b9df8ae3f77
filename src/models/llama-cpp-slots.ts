/**
 * The sequences of a local model's context (llama-cpp.ts): one slot per sequence, each with its own
 * chat, handed out first come first served. A caller waiting for a free slot can give up through
 * its signal; closing the pool rejects every waiter.
 */
import type { LlamaChat, LlamaContext, LlamaContextSequence } from "node-llama-cpp";
import { abortedError } from "./llama-cpp-generation.ts";

type NodeLlamaCpp = typeof import("node-llama-cpp");

export interface Slot {
  sequence: LlamaContextSequence;
  chat: LlamaChat;
}

export function createSlots(lib: NodeLlamaCpp, context: LlamaContext, count: number): Slot[] {
  const slots: Slot[] = [];
  for (let i = 0; i < count; i++) {
    const sequence = context.getSequence();
    // "auto" picks the chat template the GGUF declares, or node-llama-cpp's general wrapper.
    slots.push({ sequence, chat: new lib.LlamaChat({ contextSequence: sequence, chatWrapper: "auto" }) });
  }
  return slots;
}

/** Hands out free slots first-come first-served; waiters can give up through their signal. */
export class SlotPool {
  private readonly free: Slot[];
  private readonly waiters: Array<{ resolve: (slot: Slot) => void; reject: (error: unknown) => void }> = [];
  private closedWith: Error | undefined;
  active = 0;
  maxActive = 0;

  constructor(slots: Slot[]) {
    this.free = [...slots];
  }

  acquire(signal: AbortSignal | undefined): Promise<Slot> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const slot = this.free.pop();
    if (slot) return Promise.resolve(this.take(slot));
    return new Promise<Slot>((resolve, reject) => {
      const waiter = {
        resolve: (s: Slot) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.take(s));
        },
        reject: (error: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(abortedError(signal?.reason));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(slot: Slot): void {
    this.active--;
    const next = this.waiters.shift();
    if (next) next.resolve(slot);
    else this.free.push(slot);
  }

  close(error: Error): void {
    this.closedWith = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  private take(slot: Slot): Slot {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    return slot;
  }
}
