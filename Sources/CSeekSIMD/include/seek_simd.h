// SwiftSeek's innermost loops in AVX2 intrinsics: Swift's SIMD types do not lower integer dot
// products to vpmaddwd/vpmaddubsw (see the team's kernels notes), so these few functions are
// written here and called from Swift, which does everything around them (blocking,
// threading, activation quantization, dispatch). Every function is `static inline` with a
// target attribute: the binary runs on any x86-64 CPU and Swift calls these only after
// `seek_cpu_has_avx2()` said yes. Each kernel has a scalar Swift reference beside its
// caller (Sources/SeekKernels/Quant/IntegerDot.swift) and a test comparing the two.
//
// Activations come quantized per row in blocks of 32 ("Q16 activations"): `q` holds 16-bit
// values (|q| <= 32767), `d` one float scale per 32 values, `s` per 16 values d·Σq (for the
// offsets and minimums of the weight formats). 16 bits rather than the 8 of other engines:
// with 8 bits, SmolLM2's logits moved by 0.18 on average from the float reference and 4 of
// 128 greedy tokens changed; with 16 the kernels stay within ~1e-4 of it, for about a
// fifth more instructions per block (vpmaddwd on widened weights instead of vpmaddubsw).
// Weight rows are GGUF blocks as they sit in the mapped file.
#ifndef SEEK_SIMD_H
#define SEEK_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/// 1 when the CPU and OS run AVX2, FMA and F16C code.
static inline int seek_cpu_has_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!(fma && osxsave && avx && f16c)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return 0;  // the OS saves the YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 5) & 1;
}

#define SEEK_AVX2 static inline __attribute__((target("avx2,fma,f16c")))

SEEK_AVX2 float seek_half_to_float(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

SEEK_AVX2 float seek_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

SEEK_AVX2 int seek_hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/// Quantizes `n` floats (a multiple of 32) to 16-bit blocks: per 32 values d = max|x| / 32767,
/// q = round-half-even(x · (1 / d)); and per 16 values s = d · Σq (for the weight formats'
/// offsets and minimums). Bit-identical to the Swift reference
/// `QuantizedActivations.quantizeRowReference`.
SEEK_AVX2 void seek_quantize_q16(const float *x, int n, int16_t *q, float *d, float *s) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    for (int b = 0; b < n / 32; b++) {
        const float *xb = x + 32 * b;
        const __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8), v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
        const __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signBit, v0), _mm256_andnot_ps(signBit, v1)),
                                       _mm256_max_ps(_mm256_andnot_ps(signBit, v2), _mm256_andnot_ps(signBit, v3)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        const float scale = _mm_cvtss_f32(h) / 32767.0f;
        d[b] = scale;
        const __m256 inv = _mm256_set1_ps(scale == 0.0f ? 0.0f : 1.0f / scale);
        const __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        s[2 * b] = scale * (float)seek_hsum_epi32(_mm256_add_epi32(i0, i1));
        s[2 * b + 1] = scale * (float)seek_hsum_epi32(_mm256_add_epi32(i2, i3));
        // packs interleaves the 128-bit lanes; 0xD8 puts the four 64-bit quarters back in order.
        _mm256_storeu_si256((__m256i *)(q + 32 * b), _mm256_permute4x64_epi64(_mm256_packs_epi32(i0, i1), 0xD8));
        _mm256_storeu_si256((__m256i *)(q + 32 * b + 16), _mm256_permute4x64_epi64(_mm256_packs_epi32(i2, i3), 0xD8));
    }
}

/// Σ v[i]·x[i] over 32 values as eight float partial sums: v unsigned bytes (the weights'
/// unpacked integers), x 16-bit activations.
SEEK_AVX2 __m256 seek_dot_u8(__m256i v, const int16_t *x) {
    const __m256i a = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(v)), _mm256_loadu_si256((const __m256i *)x));
    const __m256i b = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(v, 1)), _mm256_loadu_si256((const __m256i *)(x + 16)));
    return _mm256_cvtepi32_ps(_mm256_add_epi32(a, b));
}

/// As seek_dot_u8 for 32 signed weight bytes.
SEEK_AVX2 __m256 seek_dot_i8(const uint8_t *w, const int16_t *x) {
    const __m256i a = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w)), _mm256_loadu_si256((const __m256i *)x));
    const __m256i b = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 16))), _mm256_loadu_si256((const __m256i *)(x + 16)));
    return _mm256_cvtepi32_ps(_mm256_add_epi32(a, b));
}

/// 16 values: unsigned weight bytes × 16-bit activations.
SEEK_AVX2 __m256 seek_dot_u8x16(__m128i v, const int16_t *x) {
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_cvtepu8_epi16(v), _mm256_loadu_si256((const __m256i *)x)));
}

/// 16 bytes of packed nibbles → 32 values: low nibbles first (values 0..15), then high (16..31).
SEEK_AVX2 __m256i seek_nibbles(const uint8_t *qs) {
    const __m128i b = _mm_loadu_si128((const __m128i *)qs);
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(b), _mm_srli_epi16(b, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/// The 32 bits of a Q5 block's `qh` as 32 bytes of 0 or 16 (bit i → byte i).
SEEK_AVX2 __m256i seek_fifth_bits(const uint8_t *qh) {
    uint32_t bits;
    memcpy(&bits, qh, 4);
    // Byte i takes byte i/8 of the word (each 128-bit lane sees the whole word)...
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
    // ...and keeps its bit i%8.
    const __m256i mask = _mm256_set1_epi64x(0x8040201008040201LL);
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, mask), mask);
    return _mm256_and_si256(set, _mm256_set1_epi8(16));
}

// The kernels below take one weight row of `nb` blocks of 32 (or `ns` super-blocks of 256)
// and one activation row: q (16-bit values), d (scale per 32), s (d·Σq per 16).

/// Q8_0 (d: f16, 32 × int8).
SEEK_AVX2 float seek_dot_q8_0(const uint8_t *w, const int16_t *q, const float *d, int nb) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int b = 0;
    for (; b + 1 < nb; b += 2) {
        const uint8_t *w0 = w + 34 * b, *w1 = w0 + 34;
        acc0 = _mm256_fmadd_ps(seek_dot_i8(w0 + 2, q + 32 * b), _mm256_set1_ps(seek_half_to_float(w0) * d[b]), acc0);
        acc1 = _mm256_fmadd_ps(seek_dot_i8(w1 + 2, q + 32 * b + 32), _mm256_set1_ps(seek_half_to_float(w1) * d[b + 1]), acc1);
    }
    if (b < nb) {
        const uint8_t *w0 = w + 34 * b;
        acc0 = _mm256_fmadd_ps(seek_dot_i8(w0 + 2, q + 32 * b), _mm256_set1_ps(seek_half_to_float(w0) * d[b]), acc0);
    }
    return seek_hsum(_mm256_add_ps(acc0, acc1));
}

/// Q4_0 (d, 16 bytes of nibbles; value = d·(n − 8)).
SEEK_AVX2 float seek_dot_q4_0(const uint8_t *w, const int16_t *q, const float *d, const float *s, int nb) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float offset = 0;
    int b = 0;
    for (; b + 1 < nb; b += 2) {
        const uint8_t *w0 = w + 18 * b, *w1 = w0 + 18;
        const float d0 = seek_half_to_float(w0), d1 = seek_half_to_float(w1);
        acc0 = _mm256_fmadd_ps(seek_dot_u8(seek_nibbles(w0 + 2), q + 32 * b), _mm256_set1_ps(d0 * d[b]), acc0);
        acc1 = _mm256_fmadd_ps(seek_dot_u8(seek_nibbles(w1 + 2), q + 32 * b + 32), _mm256_set1_ps(d1 * d[b + 1]), acc1);
        offset += d0 * (s[2 * b] + s[2 * b + 1]) + d1 * (s[2 * b + 2] + s[2 * b + 3]);
    }
    if (b < nb) {
        const uint8_t *w0 = w + 18 * b;
        const float d0 = seek_half_to_float(w0);
        acc0 = _mm256_fmadd_ps(seek_dot_u8(seek_nibbles(w0 + 2), q + 32 * b), _mm256_set1_ps(d0 * d[b]), acc0);
        offset += d0 * (s[2 * b] + s[2 * b + 1]);
    }
    return seek_hsum(_mm256_add_ps(acc0, acc1)) - 8 * offset;
}

/// Q4_1 (d, m, nibbles; value = d·n + m).
SEEK_AVX2 float seek_dot_q4_1(const uint8_t *w, const int16_t *q, const float *d, const float *s, int nb) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0;
    int b = 0;
    for (; b + 1 < nb; b += 2) {
        const uint8_t *w0 = w + 20 * b, *w1 = w0 + 20;
        acc0 = _mm256_fmadd_ps(seek_dot_u8(seek_nibbles(w0 + 4), q + 32 * b), _mm256_set1_ps(seek_half_to_float(w0) * d[b]), acc0);
        acc1 = _mm256_fmadd_ps(seek_dot_u8(seek_nibbles(w1 + 4), q + 32 * b + 32), _mm256_set1_ps(seek_half_to_float(w1) * d[b + 1]), acc1);
        mins += seek_half_to_float(w0 + 2) * (s[2 * b] + s[2 * b + 1]) + seek_half_to_float(w1 + 2) * (s[2 * b + 2] + s[2 * b + 3]);
    }
    if (b < nb) {
        const uint8_t *w0 = w + 20 * b;
        acc0 = _mm256_fmadd_ps(seek_dot_u8(seek_nibbles(w0 + 4), q + 32 * b), _mm256_set1_ps(seek_half_to_float(w0) * d[b]), acc0);
        mins += seek_half_to_float(w0 + 2) * (s[2 * b] + s[2 * b + 1]);
    }
    return seek_hsum(_mm256_add_ps(acc0, acc1)) + mins;
}

/// Q5_0 (d, 32 fifth bits, nibbles; value = d·(n + 16·bit − 16)).
SEEK_AVX2 float seek_dot_q5_0(const uint8_t *w, const int16_t *q, const float *d, const float *s, int nb) {
    __m256 acc = _mm256_setzero_ps();
    float offset = 0;
    for (int b = 0; b < nb; b++) {
        const uint8_t *w0 = w + 22 * b;
        const float dw = seek_half_to_float(w0);
        const __m256i v = _mm256_or_si256(seek_nibbles(w0 + 6), seek_fifth_bits(w0 + 2));
        acc = _mm256_fmadd_ps(seek_dot_u8(v, q + 32 * b), _mm256_set1_ps(dw * d[b]), acc);
        offset += dw * (s[2 * b] + s[2 * b + 1]);
    }
    return seek_hsum(acc) - 16 * offset;
}

/// Q5_1 (d, m, fifth bits, nibbles; value = d·(n + 16·bit) + m).
SEEK_AVX2 float seek_dot_q5_1(const uint8_t *w, const int16_t *q, const float *d, const float *s, int nb) {
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int b = 0; b < nb; b++) {
        const uint8_t *w0 = w + 24 * b;
        const __m256i v = _mm256_or_si256(seek_nibbles(w0 + 8), seek_fifth_bits(w0 + 4));
        acc = _mm256_fmadd_ps(seek_dot_u8(v, q + 32 * b), _mm256_set1_ps(seek_half_to_float(w0) * d[b]), acc);
        mins += seek_half_to_float(w0 + 2) * (s[2 * b] + s[2 * b + 1]);
    }
    return seek_hsum(acc) + mins;
}

/// The 6-bit scale and minimum of sub-block j (0..7) of a Q4_K/Q5_K super-block.
static inline void seek_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/// Q4_K (256 values: d, dmin, 8 six-bit scales and minimums, 128 bytes of nibbles;
/// value = d·sc·n − dmin·m per 32-value sub-block).
SEEK_AVX2 float seek_dot_q4_k(const uint8_t *w, const int16_t *q, const float *d, const float *s, int ns) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0;
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (int i = 0; i < ns; i++) {
        const uint8_t *blk = w + 144 * i;
        const float dw = seek_half_to_float(blk), dmin = seek_half_to_float(blk + 2);
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; j++) seek_scale_min_k4(j, blk + 4, &sc[j], &mn[j]);
        for (int j = 0; j < 4; j++) {
            const __m256i raw = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * j));
            const int b0 = 8 * i + 2 * j, b1 = b0 + 1;
            const __m256i lo = _mm256_and_si256(raw, low), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low);
            acc0 = _mm256_fmadd_ps(seek_dot_u8(lo, q + 32 * b0), _mm256_set1_ps(dw * sc[2 * j] * d[b0]), acc0);
            acc1 = _mm256_fmadd_ps(seek_dot_u8(hi, q + 32 * b1), _mm256_set1_ps(dw * sc[2 * j + 1] * d[b1]), acc1);
            mins += dmin * ((float)mn[2 * j] * (s[2 * b0] + s[2 * b0 + 1]) + (float)mn[2 * j + 1] * (s[2 * b1] + s[2 * b1 + 1]));
        }
    }
    return seek_hsum(_mm256_add_ps(acc0, acc1)) - mins;
}

/// Q6_K (256 values: 128 bytes low nibbles, 64 bytes of 2-bit highs, 16 int8 scales, d;
/// value = d·sc·(q − 32) per 16-value group).
SEEK_AVX2 float seek_dot_q6_k(const uint8_t *w, const int16_t *q, const float *d, const float *s, int ns) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float offset = 0;
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (int i = 0; i < ns; i++) {
        const uint8_t *blk = w + 210 * i;
        const float dw = seek_half_to_float(blk + 208);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = blk + 64 * h, *qh = blk + 128 + 32 * h;
            const int8_t *sc = (const int8_t *)(blk + 192 + 8 * h);
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *)qh);
            __m256i v[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(l0, low), _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(0x03)), 4));
            v[1] = _mm256_or_si256(_mm256_and_si256(l1, low), _mm256_slli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8(0x0C)), 2));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low), _mm256_and_si256(hb, _mm256_set1_epi8(0x30)));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low), _mm256_srli_epi16(_mm256_and_si256(hb, _mm256_set1_epi8((char)0xC0)), 2));
            for (int p = 0; p < 4; p++) {
                // Values 32p..32p+15 of this half use scale 2p, the next 16 scale 2p+1.
                const int b = 8 * i + 4 * h + p;
                const float dd = dw * d[b];
                acc0 = _mm256_fmadd_ps(seek_dot_u8x16(_mm256_castsi256_si128(v[p]), q + 32 * b), _mm256_set1_ps(dd * sc[2 * p]), acc0);
                acc1 = _mm256_fmadd_ps(seek_dot_u8x16(_mm256_extracti128_si256(v[p], 1), q + 32 * b + 16), _mm256_set1_ps(dd * sc[2 * p + 1]), acc1);
                offset += dw * ((float)sc[2 * p] * s[2 * b] + (float)sc[2 * p + 1] * s[2 * b + 1]);
            }
        }
    }
    return seek_hsum(_mm256_add_ps(acc0, acc1)) - 32 * offset;
}

/// Float dot product, four eight-wide FMA accumulators.
SEEK_AVX2 float seek_dot_f32(const float *a, const float *b, int n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    float sum = seek_hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

/// F16 row · float vector (F16C conversion), four accumulators.
SEEK_AVX2 float seek_dot_f16(const uint16_t *w, const float *x, int n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i))), _mm256_loadu_ps(x + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i + 8))), _mm256_loadu_ps(x + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i + 16))), _mm256_loadu_ps(x + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i + 24))), _mm256_loadu_ps(x + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i))), _mm256_loadu_ps(x + i), acc0);
    float sum = seek_hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++) sum += _cvtsh_ss(w[i]) * x[i];
    return sum;
}

#else  // not x86-64: no SIMD kernels here; Swift takes its own paths.

static inline int seek_cpu_has_avx2(void) { return 0; }
static inline void seek_quantize_q16(const float *x, int n, int16_t *q, float *d, float *s) {}
static inline float seek_dot_q8_0(const uint8_t *w, const int16_t *q, const float *d, int nb) { return 0; }
static inline float seek_dot_q4_0(const uint8_t *w, const int16_t *q, const float *d, const float *s, int nb) { return 0; }
static inline float seek_dot_q4_1(const uint8_t *w, const int16_t *q, const float *d, const float *s, int nb) { return 0; }
static inline float seek_dot_q5_0(const uint8_t *w, const int16_t *q, const float *d, const float *s, int nb) { return 0; }
static inline float seek_dot_q5_1(const uint8_t *w, const int16_t *q, const float *d, const float *s, int nb) { return 0; }
static inline float seek_dot_q4_k(const uint8_t *w, const int16_t *q, const float *d, const float *s, int ns) { return 0; }
static inline float seek_dot_q6_k(const uint8_t *w, const int16_t *q, const float *d, const float *s, int ns) { return 0; }
static inline float seek_dot_f32(const float *a, const float *b, int n) { return 0; }
static inline float seek_dot_f16(const uint16_t *w, const float *x, int n) { return 0; }

#endif
#endif
