// Dynamic micro-batching: requests for the same model and options that arrive close together share model calls, split by length.
import { geulError } from '../core/errors.js';

export interface BatcherOptions {
  /** Most items in one merged call. */
  maxItems: number;
  /** Padded-token budget of one merged call, TEI-style: items × the longest item's estimated tokens. */
  maxCost: number;
  /** Longest time the first waiting request is held for company (ms). */
  maxWaitMs: number;
  /** Merged calls allowed in flight at once (about the worker count); more items wait and grow the next batch. */
  maxInFlight: number;
  /** Requests allowed to wait in the batcher; beyond it submit() fails with OVERLOADED. */
  maxWaiting: number;
  /**
   * What one extra model call costs, in padded tokens (default 32): a waiting group is cut into calls of similar
   * lengths wherever that saves more padding than this.
   */
  callCost?: number;
}

interface Entry<I, R> { items: I[]; costs: number[]; resolve: (r: R[]) => void; reject: (e: unknown) => void }
interface Group<I, R> { key: string; context: unknown; entries: Entry<I, R>[]; items: number; longest: number; since: number; timer?: NodeJS.Timeout }
/** One item of a group, where its answer goes back to. */
interface Slot { entry: number; index: number; cost: number }

export type BatchRunner<I, R> = (context: unknown, items: I[]) => Promise<R[]>;

/**
 * Cuts items sorted by cost (ascending) into consecutive calls, minimising padded tokens plus `callCost` per call,
 * each call within `maxItems` and the padded budget (an item alone may exceed it). Returns the call boundaries.
 */
export function planCalls(costs: number[], maxItems: number, maxCost: number, callCost: number): number[] {
  const n = costs.length;
  // best[j]: least total for the first j items; from[j]: where the last call starts.
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    for (let i = j - 1; i >= 0 && j - i <= maxItems; i--) {
      const padded = (j - i) * costs[j - 1];
      if (padded > maxCost && j - i > 1) break;
      const total = best[i] + padded + callCost;
      if (total < best[j]) [best[j], from[j]] = [total, i];
    }
  }
  const cuts: number[] = [];
  for (let j = n; j > 0; j = from[j]) cuts.unshift(from[j]);
  return [...cuts, n];
}

/**
 * Holds requests per key (task + model + options) and runs them merged. A group is sent when it is full (items or
 * padded tokens), when its wait time is over, or as soon as a call slot frees up; while all slots are busy, new
 * requests join the waiting group, so batches grow with load and stay small (no added latency) when idle. A group
 * of mixed lengths is sorted by length and cut where padding would cost more than another call (TEI's budget).
 */
export class MicroBatcher<I, R> {
  private readonly groups = new Map<string, Group<I, R>>();
  private inFlight = 0;
  private waiting = 0;
  /** Observes every model call's size (metrics). */
  onBatch?: (items: number) => void;

  constructor(private readonly options: BatcherOptions, private readonly runner: BatchRunner<I, R>) {}

  get waitingRequests(): number {
    return this.waiting;
  }

  /** `cost`: estimated tokens per item, or one number for the whole request (split evenly). */
  submit(key: string, context: unknown, items: I[], cost: number | number[]): Promise<R[]> {
    if (this.waiting >= this.options.maxWaiting) return Promise.reject(geulError('OVERLOADED', { retryAfter: 1 }));
    const costs = Array.isArray(cost) ? cost : items.map(() => cost / Math.max(items.length, 1));
    const longest = Math.max(0, ...costs);
    return new Promise<R[]>((resolve, reject) => {
      let group = this.groups.get(key);
      if (group && (group.items + items.length > this.options.maxItems || padded(group.items + items.length, Math.max(group.longest, longest)) > this.options.maxCost)) {
        // This request would overflow the waiting group: send that one now (or as soon as a slot frees up).
        this.groups.delete(key);
        this.ready.push(group);
        group = undefined;
      }
      if (!group) {
        group = { key, context, entries: [], items: 0, longest: 0, since: Date.now() };
        this.groups.set(key, group);
      }
      group.entries.push({ items, costs, resolve, reject });
      group.items += items.length;
      group.longest = Math.max(group.longest, longest);
      this.waiting++;
      if (group.items >= this.options.maxItems || padded(group.items, group.longest) >= this.options.maxCost) {
        this.groups.delete(key);
        this.ready.push(group);
      } else if (!group.timer) {
        const g = group;
        g.timer = setTimeout(() => {
          g.timer = undefined;
          if (this.groups.get(g.key) === g) {
            this.groups.delete(g.key);
            this.ready.push(g);
          }
          this.pump();
        }, this.options.maxWaitMs);
      }
      this.pump();
    });
  }

  /** Groups that are full or waited long enough, oldest first. */
  private readonly ready: Group<I, R>[] = [];

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight) {
      let next = this.ready.shift();
      if (!next) {
        // A free slot and nothing "ready": when idle, do not make anyone wait for company.
        if (this.inFlight > 0) return;
        const oldest = [...this.groups.values()].sort((a, b) => a.since - b.since)[0];
        if (!oldest) return;
        this.groups.delete(oldest.key);
        next = oldest;
      }
      this.send(next);
    }
  }

  private send(group: Group<I, R>): void {
    if (group.timer) clearTimeout(group.timer);
    this.waiting -= group.entries.length;
    const slots: Slot[] = group.entries.flatMap((e, entry) => e.costs.map((cost, index) => ({ entry, index, cost })));
    const mixed = slots.some((s) => s.cost !== slots[0].cost);
    if (mixed) slots.sort((a, b) => a.cost - b.cost);
    const cuts = mixed ? planCalls(slots.map((s) => s.cost), this.options.maxItems, this.options.maxCost, this.options.callCost ?? 32) : [0, slots.length];
    const results = group.entries.map((e) => new Array<R>(e.items.length));
    const open = group.entries.map((e) => e.items.length);
    const failed = new Set<number>();
    for (let c = 0; c + 1 < cuts.length; c++) {
      const part = slots.slice(cuts[c], cuts[c + 1]);
      this.inFlight++;
      this.onBatch?.(part.length);
      this.runner(group.context, part.map((s) => group.entries[s.entry].items[s.index])).then(
        (answers) => part.forEach((s, i) => {
          results[s.entry][s.index] = answers[i];
          if (--open[s.entry] === 0 && !failed.has(s.entry)) group.entries[s.entry].resolve(results[s.entry]);
        }),
        (err: unknown) => {
          // Only the requests with an item in this call fail.
          for (const s of part) {
            if (failed.has(s.entry)) continue;
            failed.add(s.entry);
            group.entries[s.entry].reject(err);
          }
        },
      ).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }
}

const padded = (items: number, longest: number) => items * longest;
