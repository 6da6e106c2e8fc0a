/* Recur's worker threads: persistent threads that spin for a while after each parallel region
 * before they sleep.
 *
 * Why not libdispatch's concurrentPerform: its idle worker threads sleep at once, and waking one
 * costs 60–80 µs here (measured on this 2-vCPU VM: two 40 µs halves of a loop took 110–125 µs
 * through concurrentPerform, 41 µs with a spinning worker). A training step runs several parallel
 * regions (the recurrence forward and backward, the big GEMMs) a few hundred µs apart, so every
 * region paid that wake-up. A worker here stays awake for SPIN_NANOSECONDS after its last part
 * (OpenMP runtimes do the same for 200 ms) — spinning, then yielding its CPU at every check after
 * YIELD_AFTER_NANOSECONDS — and then sleeps on a condition variable.
 *
 * Protocol: the caller holds `region_lock` for the whole region, publishes the job, then bumps
 * `generation`; worker i (1-based) runs part i when i < parts, and every worker decrements
 * `remaining` when done. Sleeping is race-free: a worker counts itself in `parked` before it
 * re-reads `generation`, the caller bumps `generation` before it reads `parked` (all sequentially
 * consistent), so either the worker sees the new generation or the caller sees it parked and
 * broadcasts under `park_lock`, which the worker holds until it waits. */
#include "RecurWorkers.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define SPIN_NANOSECONDS 2000000ULL
/* After this long a waiting thread yields its CPU at every check: with more threads than CPUs (other
   processes, or Parallelism.threads above the core count) a pure spin would hold a CPU that the
   thread being waited for needs. */
#define YIELD_AFTER_NANOSECONDS 300000ULL
#define MAXIMUM_WORKERS 255

static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_signal = PTHREAD_COND_INITIALIZER;
static _Atomic long generation;
static _Atomic long remaining;
static _Atomic long parked;
/* Written by the caller under region_lock before `generation` is bumped (release), read by workers
   after they see it (acquire). */
static long worker_count;
static recur_part_function job_function;
static void *job_context;
static long job_parts;

static uint64_t now_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

struct worker_start { long index; long generation; };

static void *worker_main(void *argument) {
    struct worker_start start = *(struct worker_start *)argument;
    free(argument);
    long seen = start.generation;
    for (;;) {
        long current;
        uint64_t spin_start = now_nanoseconds();
        int yielding = 0;
        for (unsigned spins = 1; (current = atomic_load_explicit(&generation, memory_order_acquire)) == seen; spins++) {
            if (yielding) sched_yield(); else relax();
            /* The clock is read every 128 checks: a spinning thread should cost its core's sibling little. */
            if (spins % 128 != 0) continue;
            uint64_t waited = now_nanoseconds() - spin_start;
            yielding = waited >= YIELD_AFTER_NANOSECONDS;
            if (waited >= SPIN_NANOSECONDS) {
                pthread_mutex_lock(&park_lock);
                atomic_fetch_add(&parked, 1);
                while ((current = atomic_load(&generation)) == seen) pthread_cond_wait(&park_signal, &park_lock);
                atomic_fetch_sub(&parked, 1);
                pthread_mutex_unlock(&park_lock);
                break;
            }
        }
        seen = current;
        if (start.index < job_parts) job_function(job_context, start.index);
        atomic_fetch_sub_explicit(&remaining, 1, memory_order_acq_rel);
    }
    return NULL;
}

/* Starts workers until there are `wanted`; false if the system refuses a thread. */
static int ensure_workers(long wanted) {
    while (worker_count < wanted) {
        struct worker_start *start = malloc(sizeof *start);
        if (!start) return 0;
        start->index = worker_count + 1;
        start->generation = atomic_load(&generation);
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pthread_t thread;
        int failed = pthread_create(&thread, &attributes, worker_main, start);
        pthread_attr_destroy(&attributes);
        if (failed) { free(start); return 0; }
        worker_count += 1;
    }
    return 1;
}

int recur_parallel_run(long parts, recur_part_function function, void *context) {
    if (parts <= 1) {
        if (parts == 1) function(context, 0);
        return 0;
    }
    if (parts - 1 > MAXIMUM_WORKERS || pthread_mutex_trylock(&region_lock) != 0) return -1;
    if (!ensure_workers(parts - 1)) {
        pthread_mutex_unlock(&region_lock);
        return -1;
    }
    job_function = function;
    job_context = context;
    job_parts = parts;
    atomic_store_explicit(&remaining, worker_count, memory_order_relaxed);
    atomic_fetch_add(&generation, 1);
    if (atomic_load(&parked) > 0) {
        pthread_mutex_lock(&park_lock);
        pthread_cond_broadcast(&park_signal);
        pthread_mutex_unlock(&park_lock);
    }
    function(context, 0);
    uint64_t wait_start = now_nanoseconds();
    int yielding = 0;
    for (unsigned spins = 1; atomic_load_explicit(&remaining, memory_order_acquire) > 0; spins++) {
        if (yielding) sched_yield(); else relax();
        if (spins % 128 == 0) yielding = now_nanoseconds() - wait_start >= YIELD_AFTER_NANOSECONDS;
    }
    pthread_mutex_unlock(&region_lock);
    return 0;
}

long recur_claim_next(long *counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

/* state[0] counts the arrivals of the current round, state[1] numbers the rounds: the last to arrive
   resets the count and starts the next round, which releases the others (acquire/release, so what a
   part wrote before it arrived is visible to every part after the barrier). state[2] counts the waits
   long enough to start yielding: a part was off its CPU. */
void recur_barrier_wait(long *state, long parties) {
    long *arrived = state, *round = state + 1, *starved = state + 2;
    const long mine = __atomic_load_n(round, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(arrived, 1, __ATOMIC_ACQ_REL) == parties) {
        __atomic_store_n(arrived, 0, __ATOMIC_RELAXED);
        __atomic_store_n(round, mine + 1, __ATOMIC_RELEASE);
        return;
    }
    uint64_t wait_start = 0;
    int yielding = 0;
    for (unsigned spins = 1; __atomic_load_n(round, __ATOMIC_ACQUIRE) == mine; spins++) {
        if (yielding) sched_yield(); else relax();
        if (spins % 128 != 0) continue;
        if (wait_start == 0) wait_start = now_nanoseconds();
        else if (!yielding && now_nanoseconds() - wait_start >= YIELD_AFTER_NANOSECONDS) {
            yielding = 1;
            __atomic_add_fetch(starved, 1, __ATOMIC_RELAXED);
        }
    }
}
