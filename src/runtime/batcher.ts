// Dynamic micro-batching: requests for the same model and options that arrive close together share one model call.
import { geulError } from '../core/errors.js';

export interface BatcherOptions {
  /** Most items in one merged call. */
  maxItems: number;
  /** Cost budget of one merged call (estimated tokens), TEI-style. */
  maxCost: number;
  /** Longest time the first waiting request is held for company (ms). */
  maxWaitMs: number;
  /** Merged calls allowed in flight at once (about the worker count); more items wait and grow the next batch. */
  maxInFlight: number;
  /** Requests allowed to wait in the batcher; beyond it submit() fails with OVERLOADED. */
  maxWaiting: number;
}

interface Entry<I, R> { items: I[]; cost: number; resolve: (r: R[]) => void; reject: (e: unknown) => void }
interface Group<I, R> { key: string; context: unknown; entries: Entry<I, R>[]; items: number; cost: number; since: number; timer?: NodeJS.Timeout }

export type BatchRunner<I, R> = (context: unknown, items: I[]) => Promise<R[]>;

/**
 * Holds requests per key (task + model + options) and runs them merged. A group is sent when it is full,
 * when its wait time is over, or as soon as a call slot frees up; while all slots are busy, new requests join
 * the waiting group, so batches grow with load and stay small (no added latency) when idle.
 */
export class MicroBatcher<I, R> {
  private readonly groups = new Map<string, Group<I, R>>();
  private inFlight = 0;
  private waiting = 0;
  /** Observes every merged call's size (metrics). */
  onBatch?: (items: number) => void;

  constructor(private readonly options: BatcherOptions, private readonly runner: BatchRunner<I, R>) {}

  get waitingRequests(): number {
    return this.waiting;
  }

  submit(key: string, context: unknown, items: I[], cost: number): Promise<R[]> {
    if (this.waiting >= this.options.maxWaiting) return Promise.reject(geulError('OVERLOADED', { retryAfter: 1 }));
    return new Promise<R[]>((resolve, reject) => {
      let group = this.groups.get(key);
      if (group && (group.items + items.length > this.options.maxItems || group.cost + cost > this.options.maxCost)) {
        // This request would overflow the waiting group: send that one now (or as soon as a slot frees up).
        this.groups.delete(key);
        this.ready.push(group);
        group = undefined;
      }
      if (!group) {
        group = { key, context, entries: [], items: 0, cost: 0, since: Date.now() };
        this.groups.set(key, group);
      }
      group.entries.push({ items, cost, resolve, reject });
      group.items += items.length;
      group.cost += cost;
      this.waiting++;
      if (group.items >= this.options.maxItems || group.cost >= this.options.maxCost) {
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
    this.inFlight++;
    this.waiting -= group.entries.length;
    const all = group.entries.flatMap((e) => e.items);
    this.onBatch?.(all.length);
    this.runner(group.context, all).then(
      (results) => {
        let at = 0;
        for (const e of group.entries) {
          e.resolve(results.slice(at, at + e.items.length));
          at += e.items.length;
        }
      },
      (err: unknown) => { for (const e of group.entries) e.reject(err); },
    ).finally(() => {
      this.inFlight--;
      this.pump();
    });
  }
}
