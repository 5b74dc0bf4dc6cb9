// MLA's absorbed attention, all heads of one token over the shared latent rows: the per-head
// kernel (seek_attend_head, once per head) against the shared-heads one (seek_attend_shared),
// one thread, cache-resident. Also checks that the two agree (|Δ| ≤ 1e-5) for 1..16 queries.
// Then the shared kernel alone, the minimum over 5 trials of 400 calls (3,200 for GQA), at 128
// and 513 cached rows: MLA's 16 heads, and GQA's 3 and 7 query heads per KV head (SmolLM2's,
// Qwen's; head size 64) over an f16 cache and over an f32 copy of the same rows. Built against
// two versions of the header (-I), it compares them: run the two binaries in turn.
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
    const int H = 16, rkv = 256, dr = 32, latent = rkv + dr, outStride = 3 * rkv, reps = 50, reps8 = 400;
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
    for (int ci = 0; ci < 2; ci++) {
        const int n = ci == 0 ? 128 : 513, gqaReps = 8 * reps8;
        float *cache = malloc(sizeof(float) * n * latent), *q = malloc(sizeof(float) * H * latent);
        float *scores = malloc(sizeof(float) * n * H), *out = malloc(sizeof(float) * H * outStride);
        for (int i = 0; i < n * latent; i++) cache[i] = unit();
        for (int i = 0; i < H * latent; i++) q[i] = unit();
        // GQA rows: 64 keys then 64 values per position, as f16 and as their exact f32 widening.
        uint16_t *kvHalf = malloc(sizeof(uint16_t) * n * 128);
        float *kvFloat = malloc(sizeof(float) * n * 128);
        for (int i = 0; i < n * 128; i++) kvFloat[i] = unit();
        seek_float_to_half(kvFloat, kvHalf, n * 128);
        for (int i = 0; i < n * 128; i++) kvFloat[i] = seek_half_to_float((const uint8_t *)(kvHalf + i));
        double mla = 1e9, gqa[2][2] = {{1e9, 1e9}, {1e9, 1e9}};
        const int groups[2] = {3, 7};
        for (int trial = 0; trial < 5; trial++) {
            double t0 = now();
            for (int r = 0; r < reps8; r++)
                seek_attend_shared(q, latent, H, cache, cache, latent, n, latent, rkv, 0.07f, scores, out, outStride);
            double t = (now() - t0) / reps8;
            if (t < mla) mla = t;
            for (int g = 0; g < 2; g++) {
                t0 = now();
                for (int r = 0; r < gqaReps; r++)
                    seek_attend_shared_f16(q, 64, groups[g], kvHalf, kvHalf + 64, 128, n, 64, 64, 0.125f, scores, out, 64);
                t = (now() - t0) / gqaReps;
                if (t < gqa[g][0]) gqa[g][0] = t;
                t0 = now();
                for (int r = 0; r < gqaReps; r++)
                    seek_attend_shared(q, 64, groups[g], kvFloat, kvFloat + 64, 128, n, 64, 64, 0.125f, scores, out, 64);
                t = (now() - t0) / gqaReps;
                if (t < gqa[g][1]) gqa[g][1] = t;
            }
        }
        printf("%3d rows: MLA 16 heads %.2f us; GQA 3 queries f16 %.2f us (f32 %.2f); GQA 7 queries f16 %.2f us (f32 %.2f)\n", n,
               mla * 1e6, gqa[0][0] * 1e6, gqa[0][1] * 1e6, gqa[1][0] * 1e6, gqa[1][1] * 1e6);
        free(cache); free(q); free(scores); free(out); free(kvHalf); free(kvFloat);
    }
    return 0;
}
