// Memory read bandwidth probe for the decode roofline (scripts/bench-vs-llamacpp.sh).
// Reads a 256 MiB buffer (far larger than any cache here) over and over, first on one
// thread, then on N threads each streaming its own slice, and prints the best of a few
// trials as "membw threads=T gbps=X" (GB = 1e9 bytes).
//   cc -O2 -march=native -pthread scripts/membw.c -o membw && ./membw [N]
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef uint64_t v4u __attribute__((vector_size(32)));  // 32-byte loads (AVX2 with -march=native)

enum { BUF_BYTES = 256 << 20, PASSES = 4, TRIALS = 5 };

static v4u *buf;
static pthread_barrier_t start;
struct job { size_t first, count; v4u sum; };

static void *reader(void *arg) {
    struct job *j = arg;
    v4u a = {0}, b = {0}, c = {0}, d = {0};  // independent accumulators keep several loads in flight
    pthread_barrier_wait(&start);
    for (int p = 0; p < PASSES; p++) {
        const v4u *q = buf + j->first;
        for (size_t i = 0; i + 4 <= j->count; i += 4) { a += q[i]; b += q[i + 1]; c += q[i + 2]; d += q[i + 3]; }
    }
    j->sum = a + b + c + d;  // stored, so the loads cannot be optimised away
    return NULL;
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static double measure(int threads) {
    size_t vecs = BUF_BYTES / sizeof(v4u), per = vecs / threads / 4 * 4;
    pthread_t tid[threads];
    struct job jobs[threads];
    double best = 0;
    for (int t = 0; t < TRIALS; t++) {
        pthread_barrier_init(&start, NULL, threads + 1);
        for (int i = 0; i < threads; i++) {
            jobs[i] = (struct job){ .first = i * per, .count = per };
            pthread_create(&tid[i], NULL, reader, &jobs[i]);
        }
        pthread_barrier_wait(&start);
        double t0 = now();
        for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
        double gbps = (double)per * sizeof(v4u) * threads * PASSES / (now() - t0) / 1e9;
        if (gbps > best) best = gbps;
        pthread_barrier_destroy(&start);
    }
    return best;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1 || n > 256) { fprintf(stderr, "usage: membw [threads 1..256]\n"); return 2; }
    if (posix_memalign((void **)&buf, 4096, BUF_BYTES)) { perror("posix_memalign"); return 1; }
    memset(buf, 1, BUF_BYTES);  // touch every page before timing
    printf("membw threads=1 gbps=%.2f\n", measure(1));
    if (n > 1) printf("membw threads=%d gbps=%.2f\n", n, measure(n));
    return 0;
}
