// MLA's absorbed attention, all heads of one token over the shared latent rows: the per-head
// kernel (seek_attend_head, once per head) against the shared-heads one (seek_attend_shared),
// one thread, cache-resident. Also checks that the two agree (|Δ| ≤ 1e-5) for 1..16 queries.
//   clang -O2 -I Sources/CSeekSIMD/include scripts/attention-bench.c -o /tmp/attention-bench -lm
//   /tmp/attention-bench            (the synthetic DeepSeek's shape: 16 heads, r_kv 256, rope 32)
#include "seek_simd.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float unit(void) { return (float)(rand() % 20001) / 20000.0f - 0.5f; }

int main(void) {
    if (!seek_cpu_has_avx2()) { fprintf(stderr, "this CPU has no AVX2\n"); return 2; }
    const int H = 16, rkv = 256, dr = 32, latent = rkv + dr, outStride = 3 * rkv, reps = 50;
    const int counts[] = {1, 2, 7, 300, 513};
    int bad = 0;
    for (int ci = 0; ci < 5; ci++) {
        const int n = counts[ci];
        float *cache = malloc(sizeof(float) * n * latent), *q = malloc(sizeof(float) * H * latent);
        for (int i = 0; i < n * latent; i++) cache[i] = unit();
        for (int i = 0; i < H * latent; i++) q[i] = unit();
        float *sharedScores = malloc(sizeof(float) * n * H), *scores = malloc(sizeof(float) * n);
        float *shared = malloc(sizeof(float) * H * outStride), *one = malloc(sizeof(float) * rkv);
        for (int nq = 1; nq <= H; nq++) {
            seek_attend_shared(q, latent, nq, cache, cache, latent, n, latent, rkv, 0.07f, sharedScores, shared, outStride);
            for (int h = 0; h < nq; h++) {
                seek_attend_head(q + h * latent, cache, cache, latent, n, latent, rkv, 0.07f, scores, one);
                for (int i = 0; i < rkv; i++)
                    if (fabsf(shared[h * outStride + i] - one[i]) > 1e-5f) bad++;
            }
        }
        double t0 = now();
        for (int r = 0; r < reps; r++)
            for (int h = 0; h < H; h++) seek_attend_head(q + h * latent, cache, cache, latent, n, latent, rkv, 0.07f, scores, one);
        const double perHead = (now() - t0) / reps;
        t0 = now();
        for (int r = 0; r < reps; r++)
            seek_attend_shared(q, latent, H, cache, cache, latent, n, latent, rkv, 0.07f, sharedScores, shared, outStride);
        const double together = (now() - t0) / reps;
        printf("%3d rows: per head %.3f ms, shared %.3f ms (%.2fx)\n", n, perHead * 1e3, together * 1e3, perHead / together);
        free(cache); free(q); free(sharedScores); free(scores); free(shared); free(one);
    }
    if (bad) { printf("%d values differ by more than 1e-5\n", bad); return 1; }
    return 0;
}
