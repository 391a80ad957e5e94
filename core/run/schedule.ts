/**
 * Demand-driven, reactive DAG scheduling with rxjs. Each node is a shared observable: when it is
 * demanded it first asks whether its result is available without inputs (a cache hit); if not, it
 * demands its upstream nodes (forkJoin) and runs as soon as they are all ready, so independent
 * branches run concurrently. Only the `roots` (graph outputs and sinks) are demanded directly, so
 * an upstream node whose consumers were all cached is never loaded. A node whose upstream did not
 * succeed is not run: `blocked` gives its outcome (skipped, or cancelled), and other branches
 * carry on.
 */
import { defer, forkJoin, from, merge, of, type Observable } from 'rxjs';
import { map, mergeMap, shareReplay } from 'rxjs/operators';

export interface ScheduleSpec<T> {
  /** Node ids in topological order. */
  order: string[];
  upstream(id: string): string[];
  /** The nodes whose results are wanted: every other node runs only if something needs it. */
  roots: string[];
  /** The node's outcome when it needs no inputs (a cache hit), else undefined. */
  lookup(id: string): Promise<T | undefined>;
  run(id: string): Promise<T>;
  succeeded(outcome: T): boolean;
  /** The outcome of a node that cannot run because these upstream nodes did not succeed. */
  blocked(id: string, upstream: Array<{ id: string; outcome: T }>): T;
}

/** Emits each demanded node's outcome as it settles; completes when every root has settled. */
export function scheduleDag<T>(spec: ScheduleSpec<T>): Observable<{ id: string; outcome: T }> {
  const nodes = new Map<string, Observable<{ id: string; outcome: T }>>();
  const settled = (id: string) => nodes.get(id)!;
  for (const id of spec.order) {
    const deps = [...new Set(spec.upstream(id))];
    const whenReady = (): Observable<T> =>
      (deps.length ? forkJoin(deps.map((d) => settled(d))) : of([])).pipe(
        mergeMap((ups) => {
          const bad = ups.filter((u) => !spec.succeeded(u.outcome));
          return bad.length ? of(spec.blocked(id, bad)) : defer(() => from(spec.run(id)));
        }),
      );
    const node$ = defer(() => from(spec.lookup(id))).pipe(
      mergeMap((hit) => (hit !== undefined ? of(hit) : whenReady())),
      map((outcome) => ({ id, outcome })),
      // Every consumer shares one execution.
      shareReplay(1),
    );
    nodes.set(id, node$);
  }
  return merge(...spec.roots.map(settled));
}
