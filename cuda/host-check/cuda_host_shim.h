// A host stand-in for the few CUDA built-ins that cuda/tensor.cu and cuda/nn.cu use, so that those files
// compile as ordinary C++ (g++ -std=c++20) and their kernels run on the CPU.
//
// Why: CI has no GPU, so the kernels' PTX is built but never run there, and a wrong index (a swapped
// axis, an off-by-one in a padded row, a grid-stride loop that skips or repeats items) would pass every
// CI job. cuda/host-check/check.cpp includes both .cu files through this header and launches each kernel
// over every block and every thread of a grid, comparing the results with plain C++ references; built
// with AddressSanitizer, any read or write outside a buffer is caught as well.
//
// Execution model (cuda_host::launch):
//   * The blocks of a grid run one after another. `__shared__` expands to `static`, so a kernel's shared
//     array is one object that each block has to itself while it runs: per block, in effect. (Its
//     contents carry over from the previous block, where CUDA's would be undefined: a kernel reading
//     shared memory before writing it is not caught.)
//   * The threads of a block run concurrently, one std::thread each (a pool, reused across blocks and
//     launches), and __syncthreads() is a std::barrier over the block's threads. A thread that returns
//     drops out of the barrier; a block whose threads called __syncthreads() different numbers of times
//     (a divergent barrier, undefined in CUDA) aborts the check. A missing __syncthreads() is a race,
//     seen only when the scheduler happens to interleave the threads against it: likely with 256
//     threads on a few cores (removing either barrier of recur_sum's tree fails the check), not certain.
//   * atomicAdd is a real atomic (std::atomic_ref), since a block's threads do run at the same time.
//   * blockIdx, threadIdx, blockDim and gridDim are unsigned, as CUDA's are, so index arithmetic has
//     CUDA's types and wraps as it does.
// What this does not check: the device's floating point (expf and friends are the host libm's, and FMA
// contraction is whatever the host compiler does: build with -ffp-contract=off, as build-ptx.sh uses
// -fmad=false), timing, warp-level behaviour, or anything about launching (scripts/device-check.sh
// covers those on a real GPU).
#pragma once

#include <atomic>
#include <barrier>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <math.h>
#include <memory>
#include <semaphore>
#include <set>
#include <string>
#include <thread>
#include <vector>

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

namespace cuda_host {

inline thread_local dim3 thread_index, block_index;
inline dim3 block_dim, grid_dim;
inline thread_local std::barrier<> *block_barrier = nullptr;
inline thread_local unsigned *sync_count = nullptr;

/// The kernels launched so far, by name, and the number of launches.
inline std::set<std::string> launched;
inline long launches = 0;

/// The threads of one block: `size` workers that each run `body` with their thread index, then wait
/// for the next block. Workers are created as larger blocks need them and kept for later launches;
/// each waits on its own semaphore, so a block wakes only its own threads.
class ThreadPool {
public:
    ~ThreadPool() {
        stopping = true;
        for (auto &worker : workers) worker->go.release();
        for (auto &worker : workers) worker->thread.join();
    }

    /// Runs body(t) for t in 0..<size, each on its own thread, and returns when all have returned.
    void run(unsigned size, const std::function<void(unsigned)> &body) {
        while (workers.size() < size) {
            auto worker = std::make_unique<Worker>();
            unsigned index = (unsigned)workers.size();
            worker->thread = std::thread([this, index, w = worker.get()] {
                for (;;) {
                    w->go.acquire();
                    if (stopping) return;
                    (*job)(index);
                    if (remaining.fetch_sub(1) == 1) done.release();
                }
            });
            workers.push_back(std::move(worker));
        }
        job = &body;
        remaining = size;
        for (unsigned t = 0; t < size; t++) workers[t]->go.release();
        done.acquire();
        job = nullptr;
    }

private:
    struct Worker {
        std::binary_semaphore go{0};
        std::thread thread;
    };
    std::vector<std::unique_ptr<Worker>> workers;
    const std::function<void(unsigned)> *job = nullptr;
    std::atomic<unsigned> remaining{0};
    std::binary_semaphore done{0};
    std::atomic<bool> stopping{false};
};

inline ThreadPool &pool() {
    static ThreadPool shared;
    return shared;
}

/// kernel<<<grid, block>>>(args...): every block in turn, each block's threads together.
template <class... Parameters, class... Arguments>
void launch(const char *name, unsigned grid, unsigned block, void (*kernel)(Parameters...), Arguments... arguments) {
    if (grid == 0 || block == 0 || block > 1024) {
        std::fprintf(stderr, "cuda host shim: %s launched with %u blocks of %u threads\n", name, grid, block);
        std::abort();
    }
    launched.insert(name);
    launches++;
    grid_dim = {grid, 1, 1};
    block_dim = {block, 1, 1};
    for (unsigned b = 0; b < grid; b++) {
        std::barrier<> barrier((std::ptrdiff_t)block);
        std::vector<unsigned> syncs(block, 0);
        pool().run(block, [&](unsigned t) {
            thread_index = {t, 0, 0};
            block_index = {b, 0, 0};
            block_barrier = &barrier;
            sync_count = &syncs[t];
            kernel(arguments...);
            block_barrier = nullptr;
            sync_count = nullptr;
            barrier.arrive_and_drop();
        });
        for (unsigned t = 1; t < block; t++) {
            if (syncs[t] != syncs[0]) {
                std::fprintf(stderr, "cuda host shim: %s, block %u: thread 0 called __syncthreads %u times, thread %u %u times\n",
                             name, b, syncs[0], t, syncs[t]);
                std::abort();
            }
        }
    }
}

} // namespace cuda_host

// ---- The built-ins the kernels use ----

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

#define threadIdx (static_cast<const dim3 &>(::cuda_host::thread_index))
#define blockIdx (static_cast<const dim3 &>(::cuda_host::block_index))
#define blockDim (static_cast<const dim3 &>(::cuda_host::block_dim))
#define gridDim (static_cast<const dim3 &>(::cuda_host::grid_dim))

inline void __syncthreads() {
    if (!cuda_host::block_barrier) {
        std::fprintf(stderr, "cuda host shim: __syncthreads outside a kernel\n");
        std::abort();
    }
    (*cuda_host::sync_count)++;
    cuda_host::block_barrier->arrive_and_wait();
}

inline float atomicAdd(float *address, float value) { return std::atomic_ref<float>(*address).fetch_add(value); }
inline double atomicAdd(double *address, double value) { return std::atomic_ref<double>(*address).fetch_add(value); }
inline int atomicAdd(int *address, int value) { return std::atomic_ref<int>(*address).fetch_add(value); }

inline float __int_as_float(int bits) { return std::bit_cast<float>(bits); }
inline int __float_as_int(float value) { return std::bit_cast<int>(value); }

// CUDA's integer max and min (device functions in the global namespace).
inline int max(int a, int b) { return a > b ? a : b; }
inline int min(int a, int b) { return a < b ? a : b; }

/// kernel<<<grid, block>>>(args...), named for messages.
#define LAUNCH(kernel, grid, block, ...) ::cuda_host::launch(#kernel, (grid), (block), kernel, __VA_ARGS__)
