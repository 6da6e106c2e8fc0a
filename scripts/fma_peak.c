/* The machine's FP32 floor for speed goals stated against it ("within 1.6x of the FP32 floor"):
 * the FMA throughput of one core, and of every core at once, in GFLOP/s, with AVX2 (256-bit) and
 * AVX-512 registers. Twelve independent accumulators per thread keep both FMA pipes busy.
 *   cc -O3 -pthread scripts/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 * Run it on an idle machine, next to the benchmark it is a floor for; speeds drift between minutes. */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define ACCUMULATORS 12

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx2,fma"))) static double fma256(long iterations) {
    __m256 acc[ACCUMULATORS], scale = _mm256_set1_ps(0.999999f), shift = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm256_set1_ps((float)i);
    const double start = seconds();
    for (long n = 0; n < iterations; n++)
        for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm256_fmadd_ps(acc[i], scale, shift);
    const double elapsed = seconds() - start;
    float sum = 0;
    for (int i = 0; i < ACCUMULATORS; i++) sum += acc[i][0];
    __asm__ volatile("" : : "x"(sum));  /* the result is used: the loop stays */
    return iterations * ACCUMULATORS * 16.0 / elapsed / 1e9;
}

__attribute__((target("avx512f"))) static double fma512(long iterations) {
    __m512 acc[ACCUMULATORS], scale = _mm512_set1_ps(0.999999f), shift = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm512_set1_ps((float)i);
    const double start = seconds();
    for (long n = 0; n < iterations; n++)
        for (int i = 0; i < ACCUMULATORS; i++) acc[i] = _mm512_fmadd_ps(acc[i], scale, shift);
    const double elapsed = seconds() - start;
    float sum = 0;
    for (int i = 0; i < ACCUMULATORS; i++) sum += acc[i][0];
    __asm__ volatile("" : : "x"(sum));
    return iterations * ACCUMULATORS * 32.0 / elapsed / 1e9;
}

typedef struct { double avx2, avx512; } Rates;

static void *measure(void *out) {
    Rates *rates = out;
    rates->avx2 = fma256(100000000);
    rates->avx512 = __builtin_cpu_supports("avx512f") ? fma512(50000000) : 0;
    return NULL;
}

int main(void) {
    __builtin_cpu_init();
    const long cores = sysconf(_SC_NPROCESSORS_ONLN) > 64 ? 64 : sysconf(_SC_NPROCESSORS_ONLN);
    for (int run = 0; run < 3; run++) {
        Rates one;
        measure(&one);
        pthread_t threads[64];
        Rates all[64];
        for (long c = 0; c < cores; c++) pthread_create(&threads[c], NULL, measure, &all[c]);
        double sum256 = 0, sum512 = 0;
        for (long c = 0; c < cores; c++) {
            pthread_join(threads[c], NULL);
            sum256 += all[c].avx2;
            sum512 += all[c].avx512;
        }
        printf("one core: AVX2 %.1f, AVX-512 %.1f GFLOP/s | %ld cores at once: AVX2 %.1f, AVX-512 %.1f GFLOP/s\n",
               one.avx2, one.avx512, cores, sum256, sum512);
    }
    return 0;
}
