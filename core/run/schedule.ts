/**
 * Reactive DAG scheduling with rxjs: each node is an observable that waits for all of its
 * upstream nodes (forkJoin) and then runs, so a node starts as soon as its inputs are ready and
 * independent branches run concurrently. A node whose upstream did not succeed is not run: it
 * gets the outcome `blocked` gives it (skipped, or cancelled), and other branches carry on.
 */
import { defer, forkJoin, from, merge, of, type Observable } from 'rxjs';
import { map, mergeMap, shareReplay } from 'rxjs/operators';

export interface ScheduleSpec<T> {
  /** Node ids in topological order. */
  order: string[];
  upstream(id: string): string[];
  run(id: string): Promise<T>;
  succeeded(outcome: T): boolean;
  /** The outcome of a node that cannot run because these upstream nodes did not succeed. */
  blocked(id: string, upstream: Array<{ id: string; outcome: T }>): T;
}

/** Emits each node's outcome as it settles and completes when every node has settled. */
export function scheduleDag<T>(spec: ScheduleSpec<T>): Observable<{ id: string; outcome: T }> {
  const settled = new Map<string, Observable<T>>();
  for (const id of spec.order) {
    const deps = [...new Set(spec.upstream(id))];
    const ready$ = deps.length ? forkJoin(deps.map((d) => settled.get(d)!)) : of([] as T[]);
    const node$ = ready$.pipe(
      mergeMap((outcomes) => {
        const bad = deps.map((d, i) => ({ id: d, outcome: outcomes[i] })).filter((u) => !spec.succeeded(u.outcome));
        return bad.length ? of(spec.blocked(id, bad)) : defer(() => from(spec.run(id)));
      }),
      // Every consumer (and the final merge) shares one execution.
      shareReplay(1),
    );
    settled.set(id, node$);
  }
  return merge(...spec.order.map((id) => settled.get(id)!.pipe(map((outcome) => ({ id, outcome })))));
}
