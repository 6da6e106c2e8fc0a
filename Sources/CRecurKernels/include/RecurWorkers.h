#ifndef RECUR_WORKERS_H
#define RECUR_WORKERS_H

/* One part of a parallel region: `part` in 0..<parts, `context` as given to recur_parallel_run. */
typedef void (*recur_part_function)(void *context, long part);

/* Runs function(context, p) for every p in 0..<parts, part 0 on the calling thread and the others on
   Recur's worker threads, and returns when all have finished (0). Returns -1 without running
   anything when the workers are busy with another region (a call from inside a part, or from
   another thread at the same time) or a worker thread cannot be started: the caller runs the parts
   some other way. */
int recur_parallel_run(long parts, recur_part_function function, void *context);

/* Returns *counter and adds 1 to it, atomically: the threads of a region claim work items with it. */
long recur_claim_next(long *counter);

/* Waits until all `parties` parts of a region have called it with the same `state` (three longs, zero
   before the first use), then returns in every one of them; it can be waited on again at once, any
   number of times. Only for the parts of one recur_parallel_run region, which run at the same time:
   parts run one after another would wait for each other forever. A waiting thread spins, then yields
   its CPU at every check (as the workers do), so more threads than CPUs still make progress; such a
   wait adds 1 to state[2], which tells the caller how often its parts did not all have a CPU. */
void recur_barrier_wait(long *state, long parties);

#endif
