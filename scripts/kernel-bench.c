// Throughput of one integer kernel (Sources/CSeekSIMD/include/seek_simd.h) on random blocks:
// G multiply-adds per second for one weight row against `nt` activation rows, one thread.
//   cc -O2 -I Sources/CSeekSIMD/include scripts/kernel-bench.c -o /tmp/kernel-bench
//   /tmp/kernel-bench ROWS KIND [NT [BITS]]   KIND: 0 Q8_0, 1 Q4_0, 2 Q4_1, 3 Q5_0, 4 Q5_1, 5 Q4_K, 6 Q6_K
// BITS: the activations' width, 16 (default) or 8.
// 2000 rows of a 576-wide (512 for K-quants) matrix stay in cache; 200000 rows stream from memory.
#include "seek_simd.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s ROWS KIND [NT]\n", argv[0]); return 2; }
    const int rows = atoi(argv[1]), kind = atoi(argv[2]), nt = argc > 3 ? atoi(argv[3]) : 1, bits = argc > 4 ? atoi(argv[4]) : 16;
    if (rows < 1 || kind < 0 || kind > 6 || nt < 1 || nt > 8 || (bits != 8 && bits != 16)) { fprintf(stderr, "bad arguments\n"); return 2; }
    const int blockBytes[] = {34, 18, 20, 22, 24};
    const int kquant = kind >= 5, cols = kquant ? 512 : 576;
    const size_t rowBytes = kquant ? (size_t)cols / 256 * (kind == 5 ? 144 : 210) : (size_t)cols / 32 * blockBytes[kind];
    uint8_t *w = malloc(rowBytes * rows);
    for (size_t i = 0; i < rowBytes * rows; i++) w[i] = (uint8_t)rand();
    // Sane f16 scales (0x2000 = 2^-7) where each format keeps them.
    const uint16_t scale = 0x2000;
    for (size_t r = 0; r < (size_t)rows; r++) {
        if (kquant) {
            for (int b = 0; b < cols / 256; b++) memcpy(w + r * rowBytes + b * (kind == 5 ? 144 : 210) + (kind == 5 ? 0 : 208), &scale, 2);
        } else {
            for (int b = 0; b < cols / 32; b++) memcpy(w + r * rowBytes + b * blockBytes[kind], &scale, 2);
        }
    }
    float *x = malloc(sizeof(float) * cols * 8);
    for (int i = 0; i < cols * 8; i++) x[i] = (float)(rand() % 1000) / 500.0f - 1;
    int16_t *q = malloc(sizeof(int16_t) * cols * 8);
    int8_t *q8 = malloc(cols * 8);
    float *d = malloc(sizeof(float) * cols / 32 * 8), *s = malloc(sizeof(float) * cols / 16 * 8);
    if (bits == 8) seek_quantize_q8(x, cols * 8, q8, d, s); else seek_quantize_q16(x, cols * 8, q, d, s);
    float *dT = malloc(sizeof(float) * cols / 32 * 8);  // the eight rows' scales block-major
    for (int b = 0; b < cols / 32; b++)
        for (int t = 0; t < 8; t++) dT[8 * b + t] = d[t * (cols / 32) + b];
    float *sT = malloc(sizeof(float) * cols / 16 * 8);  // and their sums
    for (int j = 0; j < cols / 16; j++)
        for (int t = 0; t < 8; t++) sT[8 * j + t] = s[t * (cols / 16) + j];
    float out[8];
    volatile float sink = 0;
    double best = 1e9;
    for (int rep = 0; rep < 20; rep++) {
        const double t0 = now();
        for (int r = 0; r < rows; r++) {
            if (bits == 8) seek_dot_rows_q8(kind, w + r * rowBytes, cols / 32, q8, d, dT, s, sT, cols, nt, out);
            else seek_dot_rows(kind, w + r * rowBytes, cols / 32, q, d, dT, s, sT, cols, nt, out);
            sink += out[0];
        }
        const double t = now() - t0;
        if (t < best) best = t;
    }
    printf("kind %d, %d-bit, %d rows, %d activation rows: %.2f G multiply-adds/s, %.2f GB/s of weights\n", kind, bits, rows, nt,
           (double)rows * cols * nt / best / 1e9, rows * rowBytes / best / 1e9);
    return 0;
}
