// Whether two versions of the integer kernels give bit-identical results: the same random
// weight rows (all seven formats) and activations through seek_quantize_q16 + seek_dot_rows,
// one activation row at a time and eight at once (and attention over shared rows for 1..9, 12
// and 16 queries at once, f32 and f16); prints one line per result as hex floats,
// so two builds' outputs can be compared with cmp. For kernel changes that must not move a
// single bit (a different activation layout, a different decode):
//   git show REV:Sources/CSeekSIMD/include/seek_simd.h > /tmp/old/seek_simd.h
//   clang -O2 -I /tmp/old scripts/kernel-identity.c -o /tmp/ki-old
//   clang -O2 -I Sources/CSeekSIMD/include scripts/kernel-identity.c -o /tmp/ki-new
//   cmp <(/tmp/ki-old) <(/tmp/ki-new) && echo identical
// (and the same with -DKI_COLS=576 on both clang lines)
#include "seek_simd.h"
#include <stdio.h>
#include <stdlib.h>

// Row width: 512 by default; -DKI_COLS=576 (18 blocks) also covers a row's partial group of
// eight blocks in the 32-value formats (the K-quants run only at multiples of 256 columns).
#ifndef KI_COLS
#define KI_COLS 512
#endif

int main(void) {
    srand(7);
    enum { COLS = KI_COLS, NB = COLS / 32, ROWS = 3 };
    const size_t rowBytes[] = {34 * NB, 18 * NB, 20 * NB, 22 * NB, 24 * NB, 144 * 2, 210 * 2};
    const int blockBytes[] = {34, 18, 20, 22, 24};
    const uint16_t scale = 0x2000;  // a sane f16 scale (2^-7) wherever a format keeps one
    for (int kind = 0; kind < 7; kind++) {
        // K-quant rows are whole 256-value super-blocks; at other widths the kernels would be
        // handed blocks the row does not hold (and read offsets never written), so skip them.
        if (kind >= 5 && COLS % 256 != 0) continue;
        const size_t rb = rowBytes[kind];
        uint8_t *w = malloc(rb * ROWS);
        for (size_t i = 0; i < rb * ROWS; i++) w[i] = (uint8_t)rand();
        for (int r = 0; r < ROWS; r++) {
            uint8_t *row = w + r * rb;
            if (kind < 5) {
                for (int b = 0; b < NB; b++) memcpy(row + b * blockBytes[kind], &scale, 2);
            } else {
                for (int b = 0; b < COLS / 256; b++) {
                    if (kind == SEEK_Q4_K) {
                        memcpy(row + b * 144, &scale, 2);
                        memcpy(row + b * 144 + 2, &scale, 2);
                    } else {
                        memcpy(row + b * 210 + 208, &scale, 2);
                    }
                }
            }
        }
        static float x[COLS * 8], d[NB * 8], s[2 * NB * 8], dT[NB * 8], sT[2 * NB * 8];
        static int16_t q[COLS * 8];
        for (int i = 0; i < COLS * 8; i++) x[i] = (float)(rand() % 2000) / 1000.0f - 1;
        for (int t = 0; t < 8; t++) seek_quantize_q16(x + t * COLS, COLS, q + t * COLS, d + t * NB, s + t * 2 * NB);
        for (int b = 0; b < NB; b++)
            for (int t = 0; t < 8; t++) dT[8 * b + t] = d[t * NB + b];
        for (int j = 0; j < 2 * NB; j++)
            for (int t = 0; t < 8; t++) sT[8 * j + t] = s[t * 2 * NB + j];
        for (int r = 0; r < ROWS; r++) {
            float one[8], eight[8];
#ifdef SEEK_DOT_ROWS_TAKES_ST  // (headers after 9af5ad0 take the sums block-major too)
            for (int t = 0; t < 8; t++)
                seek_dot_rows(kind, w + r * rb, NB, q + t * COLS, d + t * NB, dT, s + t * 2 * NB, NULL, COLS, 1, one + t);
            seek_dot_rows(kind, w + r * rb, NB, q, d, dT, s, sT, COLS, 8, eight);
#else
            for (int t = 0; t < 8; t++)
                seek_dot_rows(kind, w + r * rb, NB, q + t * COLS, d + t * NB, dT, s + t * 2 * NB, COLS, 1, one + t);
            seek_dot_rows(kind, w + r * rb, NB, q, d, dT, s, COLS, 8, eight);
#endif
            for (int t = 0; t < 8; t++) printf("kind %d row %d token %d: %a %a\n", kind, r, t, one[t], eight[t]);
            for (int nt = 2; nt < 8; nt++) {  // a few rows at once (batched decode)
                float few[8];
#ifdef SEEK_DOT_ROWS_TAKES_ST
                seek_dot_rows(kind, w + r * rb, NB, q, d, dT, s, sT, COLS, nt, few);
#else
                seek_dot_rows(kind, w + r * rb, NB, q, d, dT, s, COLS, nt, few);
#endif
                for (int t = 0; t < nt; t++) printf("kind %d row %d %d rows, token %d: %a\n", kind, r, nt, t, few[t]);
            }
        }
        free(w);
    }
    // Attention over shared rows (GQA over an f16 cache; MLA's absorbed form over f32 latent
    // rows), 1..9, 12 and 16 queries at once: each query's result must not depend on how many
    // go with it.
    {
        // (36, 37 and 38 cached rows: every remainder of the kernels' blocks of keys)
        enum { NMAX = 38, HD = 288, VD = 256, STRIDE = 296, QS = 300 };
        static float keys[NMAX * STRIDE], qs[16 * QS], scores[16 * NMAX], out[16 * VD];
        static uint16_t hkeys[NMAX * STRIDE];
        for (int i = 0; i < NMAX * STRIDE; i++) keys[i] = (float)(rand() % 2000) / 1000.0f - 1;
        for (int i = 0; i < 16 * QS; i++) qs[i] = (float)(rand() % 2000) / 1000.0f - 1;
        seek_float_to_half(keys, hkeys, NMAX * STRIDE);
        for (int n = NMAX - 2; n <= NMAX; n++)
            for (int nq = 1; nq <= 16; nq += nq < 9 ? 1 : nq < 12 ? 3 : 4) {  // 1..9, 12, 16
                seek_attend_shared(qs, QS, nq, keys, keys + 8, STRIDE, n, HD, VD, 0.06f, scores, out, VD);
                for (int i = 0; i < nq * VD; i += 7) printf("mla %d rows, %d queries, out %d: %a\n", n, nq, i, out[i]);
                seek_attend_shared_f16(qs, QS, nq, hkeys, hkeys + 64, STRIDE, n, 64, 64, 0.125f, scores, out, 64);
                for (int i = 0; i < nq * 64; i += 3) printf("gqa %d rows, %d queries, out %d: %a\n", n, nq, i, out[i]);
            }
    }
    return 0;
}
