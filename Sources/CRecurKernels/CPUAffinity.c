/* How many CPUs this process may run on: its affinity mask (mpirun, taskset and cgroups' cpusets
 * narrow it), which Foundation's activeProcessorCount does not read. */
#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>
#include "RecurKernels.h"

int recur_usable_cpu_count(void) {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
