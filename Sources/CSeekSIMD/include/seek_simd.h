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
// offsets and minimums of the weight formats). 16 bits by default, rather than the 8 of other
// engines: with 8 bits, SmolLM2's logits moved by 0.18 on average from the float reference and
// 4 of 128 greedy tokens changed; with 16 the kernels stay within ~1e-4 of it, for about a
// fifth more instructions per block (vpmaddwd on widened weights instead of vpmaddubsw).
// 8-bit activations ("Q8", `--activations 8`: llama.cpp's precision) are the other choice:
// the same blocks, offsets and summation order, with vpmaddubsw on the weight bytes as they
// come (kernel-bench, in cache: Q5_0 1.17x the 16-bit kernel's speed on one row, 1.4x on eight).
// Weight rows are GGUF blocks as they sit in the mapped file.
//
// Inside a block the 16-bit activations are stored in "kernel order": first the even values
// (0, 2, ..., 30), then the odd ones (1, 3, ..., 31). The decoders then widen 32 weight bytes
// (value order) to int16 with an AND (even bytes) and a 16-bit shift (odd bytes) instead of
// byte-to-word conversions, which all run on the one shuffle port (measured: Q5_0 one row
// 1.12x, Q6_K eight rows 1.31x, the rest within noise). vpmaddwd then leaves the products of values 0..15 in int32 lanes 0-3 and
// those of 16..31 in lanes 4-7, so a block's two halves stay apart (Q6_K scales them apart).
#ifndef SEEK_SIMD_H
#define SEEK_SIMD_H

#include <math.h>
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
/// Fully unrolls the small fixed loops over rows and blocks, so their vectors stay in
/// registers: Swift's optimizer, which compiles this header for the Swift modules, does not
/// unroll them by itself the way clang -O2 does (measured: 8-row Q8_0 at 26 instead of 48 G/s).
#define SEEK_UNROLL _Pragma("clang loop unroll(full)")

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

/// Block `b` of `x` (32 floats) as integers: d = max|x| / `top` (stored at d[b]), i[k] =
/// round-half-even(x · (1 / d)) for values 8k..8k+7, and per 16 values s = d · Σi at s[2b], s[2b+1].
static inline __attribute__((always_inline, target("avx2,fma,f16c"))) void seek_block_ints(
    const float *x, int b, float top, float *d, float *s, __m256i *i) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    const float *xb = x + 32 * b;
    const __m256 v[4] = {_mm256_loadu_ps(xb), _mm256_loadu_ps(xb + 8), _mm256_loadu_ps(xb + 16), _mm256_loadu_ps(xb + 24)};
    const __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signBit, v[0]), _mm256_andnot_ps(signBit, v[1])),
                                   _mm256_max_ps(_mm256_andnot_ps(signBit, v[2]), _mm256_andnot_ps(signBit, v[3])));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    const float scale = _mm_cvtss_f32(h) / top;
    d[b] = scale;
    const __m256 inv = _mm256_set1_ps(scale == 0.0f ? 0.0f : 1.0f / scale);
    for (int k = 0; k < 4; k++) i[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    s[2 * b] = scale * (float)seek_hsum_epi32(_mm256_add_epi32(i[0], i[1]));
    s[2 * b + 1] = scale * (float)seek_hsum_epi32(_mm256_add_epi32(i[2], i[3]));
}

/// Quantizes `n` floats (a multiple of 32) to 16-bit blocks: per 32 values d = max|x| / 32767,
/// q = round-half-even(x · (1 / d)); and per 16 values s = d · Σq (for the weight formats'
/// offsets and minimums). Bit-identical to the Swift reference
/// `QuantizedActivations.quantizeRowReference`.
SEEK_AVX2 void seek_quantize_q16(const float *x, int n, int16_t *q, float *d, float *s) {
    for (int b = 0; b < n / 32; b++) {
        __m256i i[4];
        seek_block_ints(x, b, 32767.0f, d, s, i);
        // Kernel order: the even values of the block, then the odd ones. Each int32 lane pair
        // (value 2j, 2j+1) packed to one 32-bit word: its low half is value 2j, its high half 2j+1.
        const __m256i w01 = _mm256_permute4x64_epi64(_mm256_packs_epi32(i[0], i[1]), 0xD8);  // values 0..15
        const __m256i w23 = _mm256_permute4x64_epi64(_mm256_packs_epi32(i[2], i[3]), 0xD8);  // values 16..31
        const __m256i e01 = _mm256_srai_epi32(_mm256_slli_epi32(w01, 16), 16), o01 = _mm256_srai_epi32(w01, 16);
        const __m256i e23 = _mm256_srai_epi32(_mm256_slli_epi32(w23, 16), 16), o23 = _mm256_srai_epi32(w23, 16);
        _mm256_storeu_si256((__m256i *)(q + 32 * b), _mm256_permute4x64_epi64(_mm256_packs_epi32(e01, e23), 0xD8));
        _mm256_storeu_si256((__m256i *)(q + 32 * b + 16), _mm256_permute4x64_epi64(_mm256_packs_epi32(o01, o23), 0xD8));
    }
}

/// Quantizes `n` floats (a multiple of 32) to 8-bit blocks: per 32 values d = max|x| / 127,
/// q = round-half-even(x · (1 / d)) (so |q| <= 127, never -128: vpmaddubsw's sign trick for
/// Q8_0 weights needs that), in value order; per 16 values s = d · Σq. Bit-identical to the
/// Swift reference `QuantizedActivations.quantizeRowReference8`.
SEEK_AVX2 void seek_quantize_q8(const float *x, int n, int8_t *q, float *d, float *s) {
    for (int b = 0; b < n / 32; b++) {
        __m256i i[4];
        seek_block_ints(x, b, 127.0f, d, s, i);
        // int32 → int16 → int8 packs work per 128-bit lane; one dword permute puts the values back in order.
        const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
        _mm256_storeu_si256((__m256i *)(q + 32 * b), _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
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

/// e^x for eight floats, within 2 ulp of the true value: x = n·ln 2 + r with n = round(x·log2 e)
/// and r from a two-part ln 2 (|r| ≤ ~0.35), e^r by Cephes' degree-6 polynomial, times 2^n
/// built in the exponent bits. x < -87.33654 (where e^x falls below FLT_MIN, and -inf) gives 0;
/// x > 88 gives e^88; NaN stays NaN. The Swift reference `expReference` does the same steps
/// with the same fused operations, so the two agree bit for bit. Eight lanes at ~20
/// instructions replace eight calls of libm's expf (2–3% of prefill and batched decode
/// profiles, in attention's softmax, SwiGLU and the sampler).
static inline __attribute__((always_inline, target("avx2,fma,f16c"))) __m256 seek_exp8(__m256 x) {
    const __m256 low = _mm256_set1_ps(-87.33654f);
    const __m256 zero = _mm256_cmp_ps(x, low, _CMP_LT_OQ), nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    const __m256 c = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.0f)), low);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(c, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), c);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_or_ps(_mm256_andnot_ps(zero, _mm256_mul_ps(y, _mm256_castsi256_ps(bits))), nan);
}

/// seek_exp8 of one float (lane 0), for the tails of the loops below.
static inline __attribute__((always_inline, target("avx2,fma,f16c"))) float seek_exp1(float x) {
    return _mm256_cvtss_f32(seek_exp8(_mm256_set1_ps(x)));
}

/// s[0..n) ← softmax(s): the largest subtracted first (NaN ignored there), seek_exp8, the sum
/// in eight lanes and then the tail's in order.
static inline __attribute__((always_inline, target("avx2,fma,f16c"))) void seek_softmax(float *s, int n) {
    __m256 mv = _mm256_set1_ps(-INFINITY);
    int p = 0;
    for (; p + 8 <= n; p += 8) mv = _mm256_max_ps(_mm256_loadu_ps(s + p), mv);  // (a NaN in s yields mv)
    float lanes[8];
    _mm256_storeu_ps(lanes, mv);
    float m = -INFINITY;
    for (int i = 0; i < 8; i++) if (lanes[i] > m) m = lanes[i];
    for (int t = p; t < n; t++) if (s[t] > m) m = s[t];
    const __m256 mb = _mm256_set1_ps(m);
    __m256 sv = _mm256_setzero_ps();
    for (p = 0; p + 8 <= n; p += 8) {
        const __m256 e = seek_exp8(_mm256_sub_ps(_mm256_loadu_ps(s + p), mb));
        _mm256_storeu_ps(s + p, e);
        sv = _mm256_add_ps(sv, e);
    }
    float sum = seek_hsum(sv);
    for (; p < n; p++) {
        s[p] = seek_exp1(s[p] - m);
        sum += s[p];
    }
    const __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (p = 0; p + 8 <= n; p += 8) _mm256_storeu_ps(s + p, _mm256_mul_ps(_mm256_loadu_ps(s + p), inv));
    for (; p < n; p++) s[p] *= _mm256_cvtss_f32(inv);
}

/// y[i] = e^x[i] (seek_exp8) for n floats.
SEEK_AVX2 void seek_exp_floats(const float *x, int n, float *y) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, seek_exp8(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = seek_exp1(x[i]);
}

/// SwiGLU in place: gate[i] = gate[i] / (1 + e^-gate[i]) · up[i] (seek_exp8).
SEEK_AVX2 void seek_swiglu(float *gate, const float *up, int n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, seek_exp8(_mm256_xor_ps(g, sign))));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) gate[i] = gate[i] / (1.0f + seek_exp1(-gate[i])) * up[i];
}

/// A sampler's unnormalised probabilities: y[i] = e^((x[i] - shift)·scale) where x[i] ≥ floor,
/// else 0 (NaN too). Returns Σ y: eight lane sums added by seek_hsum, then the tail in order.
SEEK_AVX2 float seek_exp_weights(const float *x, int n, float shift, float scale, float floor, float *y) {
    const __m256 sh = _mm256_set1_ps(shift), sc = _mm256_set1_ps(scale), fl = _mm256_set1_ps(floor);
    __m256 sum = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 e = _mm256_and_ps(_mm256_cmp_ps(v, fl, _CMP_GE_OQ), seek_exp8(_mm256_mul_ps(_mm256_sub_ps(v, sh), sc)));
        _mm256_storeu_ps(y + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    float total = seek_hsum(sum);
    for (; i < n; i++) {
        y[i] = x[i] >= floor ? seek_exp1((x[i] - shift) * scale) : 0.0f;
        total += y[i];
    }
    return total;
}

/// Eight cached numbers at element i of a row: f32, or f16 (HALF) widened by F16C.
static inline __attribute__((always_inline, target("avx2,fma,f16c"))) __m256 seek_load8(const void *p, size_t i, const int HALF) {
    return HALF ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i))) : _mm256_loadu_ps((const float *)p + i);
}

/// One query head's attention over `n` cached positions (causal softmax already decided by
/// n): scores[p] = scale · q·K[p] over `hd` values, softmax over p (expf), out = Σ_p scores[p]
/// · V[p] over `vd` values. K and V rows are `stride` numbers apart (f32, or f16 when HALF);
/// hd and vd are multiples of 8. (MLA's absorbed attention has K = [latent, rope key] and
/// V = the latent: vd < hd.) `scores` holds n floats of scratch and ends up with the
/// attention weights.
static inline __attribute__((always_inline, target("avx2,fma,f16c"))) void seek_attend(
    const float *q, const void *keys, const void *values, size_t stride, int n, int hd, int vd, float scale, float *scores,
    float *out, const int HALF) {
    for (int p = 0; p < n; p++) {
        const size_t k = (size_t)p * stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        int i = 0;
        for (; i + 16 <= hd; i += 16) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), seek_load8(keys, k + i, HALF), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), seek_load8(keys, k + i + 8, HALF), a1);
        }
        for (; i < hd; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), seek_load8(keys, k + i, HALF), a0);
        scores[p] = seek_hsum(_mm256_add_ps(a0, a1)) * scale;
    }
    seek_softmax(scores, n);
    // out = Σ scores[p]·V[p]: 64 output values at a time in eight named registers (an array
    // of accumulators lived on the stack: 40% of the function), then eight at a time.
    int i0 = 0;
    for (; i0 + 64 <= vd; i0 += 64) {
        __m256 o0 = _mm256_setzero_ps(), o1 = o0, o2 = o0, o3 = o0, o4 = o0, o5 = o0, o6 = o0, o7 = o0;
        for (int p = 0; p < n; p++) {
            const __m256 sp = _mm256_set1_ps(scores[p]);
            const size_t v = (size_t)p * stride + i0;
            o0 = _mm256_fmadd_ps(sp, seek_load8(values, v, HALF), o0);
            o1 = _mm256_fmadd_ps(sp, seek_load8(values, v + 8, HALF), o1);
            o2 = _mm256_fmadd_ps(sp, seek_load8(values, v + 16, HALF), o2);
            o3 = _mm256_fmadd_ps(sp, seek_load8(values, v + 24, HALF), o3);
            o4 = _mm256_fmadd_ps(sp, seek_load8(values, v + 32, HALF), o4);
            o5 = _mm256_fmadd_ps(sp, seek_load8(values, v + 40, HALF), o5);
            o6 = _mm256_fmadd_ps(sp, seek_load8(values, v + 48, HALF), o6);
            o7 = _mm256_fmadd_ps(sp, seek_load8(values, v + 56, HALF), o7);
        }
        _mm256_storeu_ps(out + i0, o0);
        _mm256_storeu_ps(out + i0 + 8, o1);
        _mm256_storeu_ps(out + i0 + 16, o2);
        _mm256_storeu_ps(out + i0 + 24, o3);
        _mm256_storeu_ps(out + i0 + 32, o4);
        _mm256_storeu_ps(out + i0 + 40, o5);
        _mm256_storeu_ps(out + i0 + 48, o6);
        _mm256_storeu_ps(out + i0 + 56, o7);
    }
    for (; i0 < vd; i0 += 8) {
        __m256 o = _mm256_setzero_ps();
        for (int p = 0; p < n; p++) o = _mm256_fmadd_ps(_mm256_set1_ps(scores[p]), seek_load8(values, (size_t)p * stride + i0, HALF), o);
        _mm256_storeu_ps(out + i0, o);
    }
}

/// out row i (`ostride` floats apart, i < qn) = Σ_p ss[i][p] · V[p] over `n` rows and `vd`
/// values, for QG (≤ 6) queries at once, sixteen values at a time: each value row is read once
/// for the group (rows past qn are computed from the first's scores and not stored).
static inline __attribute__((always_inline, target("avx2,fma,f16c"))) void seek_weigh_values(
    const float *const *ss, int qn, const void *values, size_t stride, int n, int vd, float *out, size_t ostride,
    const int QG, const int HALF) {
    for (int c = 0; c < vd; c += 16) {
        const int wide = c + 16 <= vd;
        __m256 o0[6], o1[6];
        SEEK_UNROLL
        for (int i = 0; i < QG; i++) o0[i] = o1[i] = _mm256_setzero_ps();
        for (int p = 0; p < n; p++) {
            const size_t v = (size_t)p * stride + c;
            const __m256 v0 = seek_load8(values, v, HALF), v1 = wide ? seek_load8(values, v + 8, HALF) : v0;
            SEEK_UNROLL
            for (int i = 0; i < QG; i++) {
                const __m256 sp = _mm256_broadcast_ss(ss[i] + p);
                o0[i] = _mm256_fmadd_ps(sp, v0, o0[i]);
                o1[i] = _mm256_fmadd_ps(sp, v1, o1[i]);
            }
        }
        SEEK_UNROLL
        for (int i = 0; i < QG; i++) {
            if (i >= qn) continue;
            float *oi = out + (size_t)i * ostride + c;
            _mm256_storeu_ps(oi, o0[i]);
            if (wide) _mm256_storeu_ps(oi + 8, o1[i]);
        }
    }
}

/// `nq` queries (rows `qstride` floats apart) attending to the same `n` cached rows (f32, or
/// f16 when HALF), as all of a token's heads do in MLA's absorbed attention (every head reads
/// the shared latent) and a KV head's query heads in GQA: out row i (`ostride` floats apart) =
/// Σ_p softmax_p(scale · q_i·K[p]) · V[p]. The same arithmetic per query as seek_attend, but
/// each key row is met by four queries, three keys at a time, and each value row by six or
/// four queries (seek_weigh_values), so the rows are read from cache once per group of heads
/// instead of once per head. `scores` holds nq × n floats.
static inline __attribute__((always_inline, target("avx2,fma,f16c"))) void seek_attend_shared_rows(
    const float *q, size_t qstride, int nq, const void *keys, const void *values, size_t stride, int n, int hd, int vd,
    float scale, float *scores, float *out, size_t ostride, const int HALF) {
    for (int i0 = 0; i0 < nq; i0 += 4) {
        const int qn = nq - i0 < 4 ? nq - i0 : 4;
        // Queries past qn repeat the first (their results are not kept).
        const float *qs[4];
        for (int i = 0; i < 4; i++) qs[i] = q + (size_t)(i0 + (i < qn ? i : 0)) * qstride;
        float *sc = scores + (size_t)i0 * n;
        for (int p = 0; p < n; p += 3) {
            // Three keys at a time: twelve accumulators, so each fma's result is not needed
            // again for three fmas' latency (eight had left the chains no slack).
            const int m = n - p < 3 ? n - p : 3;
            const size_t k0 = (size_t)p * stride, k1 = m > 1 ? k0 + stride : k0, k2 = m > 2 ? k0 + 2 * stride : k0;
            __m256 a0[4], a1[4], a2[4];
            SEEK_UNROLL
            for (int i = 0; i < 4; i++) a0[i] = a1[i] = a2[i] = _mm256_setzero_ps();
            for (int c = 0; c < hd; c += 8) {
                const __m256 kv0 = seek_load8(keys, k0 + c, HALF), kv1 = seek_load8(keys, k1 + c, HALF);
                const __m256 kv2 = seek_load8(keys, k2 + c, HALF);
                SEEK_UNROLL
                for (int i = 0; i < 4; i++) {
                    const __m256 qv = _mm256_loadu_ps(qs[i] + c);
                    a0[i] = _mm256_fmadd_ps(qv, kv0, a0[i]);
                    a1[i] = _mm256_fmadd_ps(qv, kv1, a1[i]);
                    a2[i] = _mm256_fmadd_ps(qv, kv2, a2[i]);
                }
            }
            SEEK_UNROLL
            for (int i = 0; i < 4; i++) {  // (constant indices keep the accumulators in registers)
                if (i >= qn) continue;
                sc[(size_t)i * n + p] = seek_hsum(a0[i]) * scale;
                if (m > 1) sc[(size_t)i * n + p + 1] = seek_hsum(a1[i]) * scale;
                if (m > 2) sc[(size_t)i * n + p + 2] = seek_hsum(a2[i]) * scale;
            }
        }
        for (int i = 0; i < qn; i++) seek_softmax(sc + (size_t)i * n, n);
    }
    // Σ scores·V, sixteen output values of six queries at a time (twelve accumulators) where
    // that leaves none or at least four (MLA's 16 heads: 6 + 6 + 4), else four (queries past the
    // last read the first one's scores and are not stored); each value row is read once per group.
    for (int i0 = 0; i0 < nq;) {
        const int six = nq - i0 == 6 || nq - i0 >= 10;
        const int qn = six ? 6 : (nq - i0 < 4 ? nq - i0 : 4);
        const float *ss[6];
        for (int i = 0; i < 6; i++) ss[i] = scores + (size_t)(i0 + (i < qn ? i : 0)) * n;
        float *o = out + (size_t)i0 * ostride;
        if (six)
            seek_weigh_values(ss, qn, values, stride, n, vd, o, ostride, 6, HALF);
        else
            seek_weigh_values(ss, qn, values, stride, n, vd, o, ostride, 4, HALF);
        i0 += qn;
    }
}

/// seek_attend_shared_rows over f32 rows (MLA's latent cache).
SEEK_AVX2 void seek_attend_shared(const float *q, size_t qstride, int nq, const float *keys, const float *values, size_t stride,
                                  int n, int hd, int vd, float scale, float *scores, float *out, size_t ostride) {
    seek_attend_shared_rows(q, qstride, nq, keys, values, stride, n, hd, vd, scale, scores, out, ostride, 0);
}

/// seek_attend_shared_rows over f16 rows: the query heads of one key/value head in
/// grouped-query attention, over an f16 KV cache.
SEEK_AVX2 void seek_attend_shared_f16(const float *q, size_t qstride, int nq, const uint16_t *keys, const uint16_t *values,
                                      size_t stride, int n, int hd, int vd, float scale, float *scores, float *out, size_t ostride) {
    seek_attend_shared_rows(q, qstride, nq, keys, values, stride, n, hd, vd, scale, scores, out, ostride, 1);
}

/// seek_attend over f32 rows.
SEEK_AVX2 void seek_attend_head(const float *q, const float *keys, const float *values, size_t stride, int n, int hd,
                                int vd, float scale, float *scores, float *out) {
    seek_attend(q, keys, values, stride, n, hd, vd, scale, scores, out, 0);
}

/// seek_attend over f16 rows (an f16 KV cache).
SEEK_AVX2 void seek_attend_head_f16(const float *q, const uint16_t *keys, const uint16_t *values, size_t stride, int n,
                                    int hd, int vd, float scale, float *scores, float *out) {
    seek_attend(q, keys, values, stride, n, hd, vd, scale, scores, out, 1);
}

/// n floats to f16 (round to nearest even, as F16C does).
SEEK_AVX2 void seek_float_to_half(const float *x, uint16_t *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) y[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/// y[i] += a·x[i] for n values.
SEEK_AVX2 void seek_axpy(float a, const float *x, float *y, int n) {
    const __m256 av = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8)));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

/// The longest weight row the integer kernels take, in blocks of 32 (32768 values).
enum { SEEK_MAX_BLOCKS = 1024 };

/// Up to this many activation rows (16-bit; two at 8 bits, whose "met" path adds rows' pair sums
/// while int16 and so gains sooner), seek_rows keeps each row "folded" as decode does (see there).
/// Kernel-bench, 16-bit, 2000 rows in cache, medians of 7 (G multiply-adds/s), met → folded:
/// two rows Q4_1 9.4 → 17.2, Q5_0 13.1 → 15.2, Q8_0 17.7 → 22.3; three rows Q4_1 12.1 → 20.7,
/// Q5_0 17.5 → 17.5, Q8_0 22.7 → 25.4; four rows no better (Q4_1 22.9 → 21.0).
#ifndef SEEK_FOLD_ROWS
#define SEEK_FOLD_ROWS 3
#endif
#define SEEK_FOLD_ROWS_A8 (SEEK_FOLD_ROWS < 2 ? SEEK_FOLD_ROWS : 2)
/// seek_dot_rows takes the rows' sums block-major too (sT), for scripts built against several header versions.
#define SEEK_DOT_ROWS_TAKES_ST 1

/// The weight formats with integer kernels (the `kind` argument below).
enum { SEEK_Q8_0 = 0, SEEK_Q4_0 = 1, SEEK_Q4_1 = 2, SEEK_Q5_0 = 3, SEEK_Q5_1 = 4, SEEK_Q4_K = 5, SEEK_Q6_K = 6 };

#define SEEK_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

/// The 32 bits of a Q5 block's `qh` as 32 bytes of 0 or 16 (bit i → byte i).
SEEK_AVX2_INLINE __m256i seek_fifth_bits(const uint8_t *qh) {
    // Byte i takes byte i/8 of the word (the word broadcast straight from memory, which
    // needs no shuffle-port work; each 128-bit lane sees the whole word)...
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_castps_si256(_mm256_broadcast_ss((const float *)qh)), pick);
    // ...and keeps its bit i%8.
    const __m256i mask = _mm256_set1_epi64x(0x8040201008040201LL);
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, mask), mask);
    return _mm256_and_si256(set, _mm256_set1_epi8(16));
}

/// One block of 32 weights, decoded once and then met by every activation row: the
/// integers n as int16 in kernel order (the even values in `lo`, the odd ones in `hi`), and
/// per 16 values a scale and an offset with weight = scale·n + offset. Only Q6_K has two
/// different halves.
/// With 8-bit activations (A8) the block is `bytes` instead: its 32 integers as bytes in value
/// order (unsigned, but for Q8_0's signed ones), the operand vpmaddubsw takes.
typedef struct {
    __m256i lo, hi, bytes;
    float scaleLo, scaleHi, offsetLo, offsetHi;
} SeekBlock;

/// Block `b`'s 32 activations: element 32·b of a row of int16 (A8 = 0) or int8 (A8 = 1) values.
SEEK_AVX2_INLINE const void *seek_act(const void *q, size_t at, const int A8) {
    return (const uint8_t *)q + (A8 ? at : 2 * at);
}

/// Bytes per block of a 32-value format.
SEEK_AVX2_INLINE int seek_block_bytes(int kind) {
    return kind == SEEK_Q8_0 ? 34 : kind == SEEK_Q4_0 ? 18 : kind == SEEK_Q4_1 ? 20 : kind == SEEK_Q5_0 ? 22 : 24;
}

/// The f16 at byte `at` of blocks g..g+m-1 (m ≤ 8, `bytes` apart) as eight floats (0 past m).
SEEK_AVX2_INLINE __m256 seek_halves8(const uint8_t *w, int bytes, int at, int g, int m) {
    const uint8_t *p = w + (size_t)bytes * g + at;
    uint16_t h[8];
    for (int j = 0; j < 8; j++) h[j] = 0;
    // One insert per block (an index must be a constant), then one conversion for all eight.
    __m128i v = _mm_setzero_si128();
#define SEEK_HALF(J) if (m > J) { memcpy(&h[J], p + (size_t)bytes * J, 2); v = _mm_insert_epi16(v, h[J], J); }
    SEEK_HALF(0) SEEK_HALF(1) SEEK_HALF(2) SEEK_HALF(3) SEEK_HALF(4) SEEK_HALF(5) SEEK_HALF(6) SEEK_HALF(7)
#undef SEEK_HALF
    return _mm256_cvtph_ps(v);
}

/// Blocks g..g+m-1 of a 32-value format: the weight scales into sc[0..8) and, per 16 values,
/// the offsets into off[0..16) (zeros past m).
SEEK_AVX2_INLINE void seek_group_scales(int kind, const uint8_t *w, int g, int m, float *sc, float *off) {
    const int bytes = seek_block_bytes(kind);
    const __m256 scale = seek_halves8(w, bytes, 0, g, m);
    _mm256_storeu_ps(sc, scale);
    if (kind == SEEK_Q8_0) return;
    const __m256 o = kind == SEEK_Q4_0   ? _mm256_mul_ps(scale, _mm256_set1_ps(-8))
                     : kind == SEEK_Q5_0 ? _mm256_mul_ps(scale, _mm256_set1_ps(-16))
                                         : seek_halves8(w, bytes, 2, g, m);  // Q4_1, Q5_1: the minimum
    const __m256 lo = _mm256_unpacklo_ps(o, o), hi = _mm256_unpackhi_ps(o, o);  // o0 o0 o1 o1 | o4 o4 o5 o5 ...
    _mm256_storeu_ps(off, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(off + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
}

/// 32 unsigned weight bytes in value order, as int16 in kernel order: the even bytes masked,
/// the odd ones shifted down (no byte-to-word conversion, which would use the shuffle port).
SEEK_AVX2_INLINE void seek_split_u8(__m256i t, __m256i *even, __m256i *odd) {
    *even = _mm256_and_si256(t, _mm256_set1_epi16(0x00FF));
    *odd = _mm256_srli_epi16(t, 8);
}

/// The 16 bytes of a Q4/Q5 block's nibbles as 32 bytes 0..15 in value order: low nibbles
/// (values 0..15) in the lower 128 bits, high nibbles (16..31) in the upper, from one
/// broadcast load and one per-lane variable shift.
SEEK_AVX2_INLINE __m256i seek_nibbles32(const uint8_t *qs) {
    const __m256i r = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    return _mm256_and_si256(_mm256_srlv_epi32(r, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0F));
}

/// 32 weight integers as bytes in value order, kept whole (A8) or widened to int16 in kernel order.
SEEK_AVX2_INLINE void seek_take_bytes(__m256i t, SeekBlock *k, const int A8) {
    if (A8) {
        k->bytes = t;
    } else {
        seek_split_u8(t, &k->lo, &k->hi);
    }
}

/// The 32 values of block b of a row of a 32-value format (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1);
/// its scale and offset come from seek_group_scales.
SEEK_AVX2_INLINE SeekBlock seek_decode_block(int kind, const uint8_t *w, int b, const int A8) {
    SeekBlock k;
    switch (kind) {
    case SEEK_Q8_0: {  // signed bytes: sign-extended by shifts (or kept, for vpmaddubsw's sign trick)
        const __m256i t = _mm256_loadu_si256((const __m256i *)(w + 34 * b + 2));
        if (A8) {
            k.bytes = t;
        } else {
            k.lo = _mm256_srai_epi16(_mm256_slli_epi16(t, 8), 8);
            k.hi = _mm256_srai_epi16(t, 8);
        }
        break;
    }
    case SEEK_Q4_0:
    case SEEK_Q4_1: {
        const uint8_t *blk = w + (kind == SEEK_Q4_0 ? 18 : 20) * b;
        seek_take_bytes(seek_nibbles32(blk + (kind == SEEK_Q4_0 ? 2 : 4)), &k, A8);
        break;
    }
    default: {  // SEEK_Q5_0, SEEK_Q5_1
        const uint8_t *blk = w + (kind == SEEK_Q5_0 ? 22 : 24) * b;
        const uint8_t *qh = blk + (kind == SEEK_Q5_0 ? 2 : 4);
        seek_take_bytes(_mm256_or_si256(seek_nibbles32(qh + 4), seek_fifth_bits(qh)), &k, A8);
        break;
    }
    }
    return k;
}

/// All eight 32-value blocks of Q6_K super-block i at once: the scale d is read once and the
/// packed bytes are loaded once for the blocks that share them.
SEEK_AVX2_INLINE void seek_decode_q6k_superblock(const uint8_t *w, int i, SeekBlock *k, const int A8) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    const uint8_t *blk = w + 210 * i;
    const float dw = seek_half_to_float(blk + 208);
    SEEK_UNROLL
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = blk + 64 * h;
        const int8_t *sc = (const int8_t *)(blk + 192 + 8 * h);
        const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * h));
        __m256i v[4];
        v[0] = _mm256_or_si256(_mm256_and_si256(l0, low), _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x03)), 4));
        v[1] = _mm256_or_si256(_mm256_and_si256(l1, low), _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2));
        v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low), _mm256_and_si256(qh, _mm256_set1_epi8(0x30)));
        v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low), _mm256_srli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8((char)0xC0)), 2));
        SEEK_UNROLL
        for (int p = 0; p < 4; p++) {
            SeekBlock *b = &k[4 * h + p];
            seek_take_bytes(v[p], b, A8);
            b->scaleLo = dw * sc[2 * p];
            b->scaleHi = dw * sc[2 * p + 1];
            b->offsetLo = -32 * b->scaleLo;
            b->offsetHi = -32 * b->scaleHi;
        }
    }
}

/// Lane t of *lower: the sum of int32 lanes 0-3 of p[t] (a block's values 0..15 in kernel
/// order); of *upper: lanes 4-7 (values 16..31). (hadd stays within 128-bit lanes.)
SEEK_AVX2_INLINE void seek_sum8_halves(const __m256i *p, __m256i *lower, __m256i *upper) {
    const __m256i h01 = _mm256_hadd_epi32(p[0], p[1]), h23 = _mm256_hadd_epi32(p[2], p[3]);
    const __m256i h45 = _mm256_hadd_epi32(p[4], p[5]), h67 = _mm256_hadd_epi32(p[6], p[7]);
    const __m256i a = _mm256_hadd_epi32(h01, h23), b = _mm256_hadd_epi32(h45, h67);
    *lower = _mm256_permute2x128_si256(a, b, 0x20);
    *upper = _mm256_permute2x128_si256(a, b, 0x31);
}

/// Lane t of the result: the sum of the eight int32 lanes of p[t].
SEEK_AVX2_INLINE __m256i seek_sum8(const __m256i *p) {
    __m256i lower, upper;
    seek_sum8_halves(p, &lower, &upper);
    return _mm256_add_epi32(lower, upper);
}

/// Lanes 0-3 of the result: the sums of the eight int32 lanes of p[0..3]; lanes 4-7: zero.
SEEK_AVX2_INLINE __m256i seek_sum4(const __m256i *p) {
    const __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
    return _mm256_zextsi128_si256(_mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1)));
}

/// The 32 integer products of a decoded block with 32 activations, in eight int32 lanes
/// (lanes 0-3 from values 0..15, lanes 4-7 from 16..31, with either activation width).
/// 8-bit: vpmaddubsw takes unsigned weight bytes (at most 63) against signed activations
/// (|a| <= 127), so no pair sum reaches int16's limit; Q8_0's signed weights go in as their
/// magnitudes, with their signs moved onto the activations.
SEEK_AVX2_INLINE __m256i seek_products(int kind, const SeekBlock *k, const void *qb, const int A8) {
    if (A8) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)qb), ones = _mm256_set1_epi16(1);
        if (kind == SEEK_Q8_0)
            return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(k->bytes, k->bytes), _mm256_sign_epi8(a, k->bytes)), ones);
        return _mm256_madd_epi16(_mm256_maddubs_epi16(k->bytes, a), ones);
    }
    const int16_t *q16 = (const int16_t *)qb;
    return _mm256_add_epi32(_mm256_madd_epi16(k->lo, _mm256_loadu_si256((const __m256i *)q16)),
                            _mm256_madd_epi16(k->hi, _mm256_loadu_si256((const __m256i *)(q16 + 16))));
}

/// Block b (decoded in `k`) met by activation rows 0..<NT (NT ≥ 2) of a group of eight: each
/// row's exact integer sum over the block, the eight rows' sums in the lanes of one vector,
/// scaled by (weight scale × row scale) and added to `acc` (lane t = row t) with one fma.
/// `dT` holds the rows' scales block-major: dT[8b + t].
SEEK_AVX2_INLINE __m256 seek_meet(int kind, const SeekBlock *k, int b, const void *q, const float *dT,
                                  int cols, __m256 acc, const int NT, const int A8) {
    const __m256 dt = _mm256_loadu_ps(dT + 8 * b);
    if (A8 && kind != SEEK_Q8_0) {
        // 8 bits, unsigned weights: the rows' vpmaddubsw pair sums (|x| <= 2·63·127) are added
        // across rows while still int16 (vphaddw: within int16 for one level with Q6_K's 6-bit
        // weights, two with 4- and 5-bit ones, |x| <= 8·31·127), so fewer vpmaddwd and
        // vphaddd follow. The integer sums are the same, so the result is that of one row alone.
        __m256i P[8];
        SEEK_UNROLL
        for (int t = 0; t < 8; t++)
            P[t] = t < NT ? _mm256_maddubs_epi16(k->bytes, _mm256_loadu_si256((const __m256i *)seek_act(q, (size_t)t * cols + 32 * b, A8)))
                          : _mm256_setzero_si256();
        const __m256i ones = _mm256_set1_epi16(1);
        const __m256i h01 = _mm256_hadd_epi16(P[0], P[1]), h23 = _mm256_hadd_epi16(P[2], P[3]);
        const __m256i h45 = _mm256_hadd_epi16(P[4], P[5]), h67 = _mm256_hadd_epi16(P[6], P[7]);
        __m256i a, c;  // 128-bit lane h, int32 lane t: row t's (a: t < 4; c: t - 4) sum over values 16h..16h+15
        if (kind == SEEK_Q6_K) {
            a = _mm256_hadd_epi32(_mm256_madd_epi16(h01, ones), _mm256_madd_epi16(h23, ones));
            c = _mm256_hadd_epi32(_mm256_madd_epi16(h45, ones), _mm256_madd_epi16(h67, ones));
        } else {
            a = _mm256_madd_epi16(_mm256_hadd_epi16(h01, h23), ones);
            c = _mm256_madd_epi16(_mm256_hadd_epi16(h45, h67), ones);
        }
        const __m256i lower = _mm256_permute2x128_si256(a, c, 0x20), upper = _mm256_permute2x128_si256(a, c, 0x31);
        if (kind == SEEK_Q6_K) {
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lower), _mm256_mul_ps(_mm256_set1_ps(k->scaleLo), dt), acc);
            return _mm256_fmadd_ps(_mm256_cvtepi32_ps(upper), _mm256_mul_ps(_mm256_set1_ps(k->scaleHi), dt), acc);
        }
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(lower, upper)), _mm256_mul_ps(_mm256_set1_ps(k->scaleLo), dt), acc);
    }
    __m256i p[8];
    SEEK_UNROLL
    for (int t = 0; t < 8; t++) p[t] = t < NT ? seek_products(kind, k, seek_act(q, (size_t)t * cols + 32 * b, A8), A8) : _mm256_setzero_si256();
    if (kind == SEEK_Q6_K) {  // the two halves of the block, each with its own scale
        __m256i lower, upper;
        seek_sum8_halves(p, &lower, &upper);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lower), _mm256_mul_ps(_mm256_set1_ps(k->scaleLo), dt), acc);
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(upper), _mm256_mul_ps(_mm256_set1_ps(k->scaleHi), dt), acc);
    }
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(seek_sum8(p)), _mm256_mul_ps(_mm256_set1_ps(k->scaleLo), dt), acc);
}

/// The one-row counterpart for up to eight consecutive blocks g..g+m-1 (g a multiple of 8):
/// their products (p[j], lanes to be summed) and weight scales sc[j] against the row's scales
/// d[g..], added to `acc`, whose lane j holds the blocks ≡ j (mod 8) — the accumulator the
/// many-row path keeps for those blocks. With `scHi` (Q6_K, m = 8) each block's two halves
/// (values 0..15, 16..31) have their own scales sc[j], scHi[j]: the first added, then the
/// second. Lanes j ≥ m get 0·0.
SEEK_AVX2_INLINE __m256 seek_fold8(const __m256i *p, const float *sc, const float *scHi, const float *d, int m, __m256 acc) {
    const __m256 dt = m == 8 ? _mm256_loadu_ps(d)
                             : _mm256_maskload_ps(d, _mm256_cmpgt_epi32(_mm256_set1_epi32(m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
    if (scHi) {
        __m256i lower, upper;
        seek_sum8_halves(p, &lower, &upper);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lower), _mm256_mul_ps(_mm256_loadu_ps(sc), dt), acc);
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(upper), _mm256_mul_ps(_mm256_loadu_ps(scHi), dt), acc);
    }
    const __m256i sums = m <= 4 ? seek_sum4(p) : seek_sum8(p);  // (a row's tail: fewer additions)
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(_mm256_loadu_ps(sc), dt), acc);
}

/// The eight accumulators (blocks ≡ j mod 8) of one row, added in one fixed order.
static inline float seek_tree8(const float *a) {
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/// The weights' offsets (per 16 values) met by an activation row's sums: Σ offsets[j]·s[j].
/// Lane j % 8 takes the terms j of each full eight (in j order), added by seek_hsum's tree;
/// the tail after them goes in order, each term fused (an explicit fma, so no compiler's
/// contraction choice can make this differ from seek_offset_dot8). The folded rows take the
/// full eights as the kernel goes (seek_offset_eights: the offsets are still in cache, and
/// no pass over them at the end) and the tail at the end (seek_offset_tail).
/// `eights` eights of offsets from offsets[j0] met by each of NT rows' sums (row t's at
/// s + 2t·nb), added to oacc[t].
SEEK_AVX2_INLINE void seek_offset_eights(const float *offsets, const float *s, int nb, int j0, int eights, __m256 *oacc,
                                         const int NT) {
    for (int e = 0; e < eights; e++) {
        const int j = j0 + 8 * e;
        const __m256 o = _mm256_load_ps(offsets + j);
        SEEK_UNROLL
        for (int t = 0; t < NT; t++) oacc[t] = _mm256_fmadd_ps(o, _mm256_loadu_ps(s + (size_t)t * 2 * nb + j), oacc[t]);
    }
}

/// The end of one row's offset sum whose full eights are in `o`: the tail (offsets past the
/// last full eight of n, in order) and the total.
SEEK_AVX2_INLINE float seek_offset_tail(__m256 o, const float *offsets, const float *st, int n) {
    __m128 tail = _mm_setzero_ps();
    for (int j = n / 8 * 8; j < n; j++) tail = _mm_fmadd_ss(_mm_set_ss(offsets[j]), _mm_set_ss(st[j]), tail);
    return seek_hsum(o) + _mm_cvtss_f32(tail);
}

/// The offset sum for eight activation rows at once, lane t = row t, with the rows' sums
/// block-major (sT[8j + t]): the same terms, the same additions in the same order, so each
/// row gets bit for bit what it gets alone; eight independent accumulators instead of one
/// dependent chain and a horizontal sum per row (that epilogue was ~10% of Qwen's prefill
/// kernel time).
SEEK_AVX2_INLINE __m256 seek_offset_dot8(const float *offsets, const float *sT, int n) {
    __m256 a[8];
    SEEK_UNROLL
    for (int l = 0; l < 8; l++) a[l] = _mm256_setzero_ps();
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        SEEK_UNROLL
        for (int l = 0; l < 8; l++) a[l] = _mm256_fmadd_ps(_mm256_broadcast_ss(offsets + j + l), _mm256_loadu_ps(sT + 8 * (size_t)(j + l)), a[l]);
    }
    __m256 tail = _mm256_setzero_ps();
    for (; j < n; j++) tail = _mm256_fmadd_ps(_mm256_broadcast_ss(offsets + j), _mm256_loadu_ps(sT + 8 * (size_t)j), tail);
    // seek_hsum's order: ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
    const __m256 tree = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[0], a[4]), _mm256_add_ps(a[2], a[6])),
                                      _mm256_add_ps(_mm256_add_ps(a[1], a[5]), _mm256_add_ps(a[3], a[7])));
    return _mm256_add_ps(tree, tail);
}

/// Blocks g..g+m-1 (m ≤ 8) of a 32-value format met by NT activation rows kept folded (decode's
/// one row, or a few: NT ≤ SEEK_FOLD_ROWS): seek_rows' step, each block decoded once for all of
/// them, row t (its values at q + t·cols, its scales at d + t·nb) getting exactly the operations
/// it gets alone, into acc1[t]; the offsets gathered into offsets[2g..].
SEEK_AVX2_INLINE void seek_group32(int kind, const uint8_t *w, int g, const int m, const void *q, const float *d,
                                   int cols, int nb, float *offsets, __m256 *acc1, const int NT, const int A8) {
    __m256i p[SEEK_FOLD_ROWS][8];
    float sc[8];
    seek_group_scales(kind, w, g, m, sc, offsets + 2 * g);  // (writes up to 16 offsets: the array has room)
    SEEK_UNROLL
    for (int j = 0; j < 8; j++) {
        if (j >= m) {
            SEEK_UNROLL
            for (int t = 0; t < NT; t++) p[t][j] = _mm256_setzero_si256();
            continue;
        }
        const int b = g + j;
        SeekBlock k = seek_decode_block(kind, w, b, A8);
        SEEK_UNROLL
        for (int t = 0; t < NT; t++) p[t][j] = seek_products(kind, &k, seek_act(q, (size_t)t * cols + 32 * b, A8), A8);
    }
    SEEK_UNROLL
    for (int t = 0; t < NT; t++) acc1[t] = seek_fold8(p[t], sc, NULL, d + (size_t)t * nb + g, m, acc1[t]);
}

/// seek_group32 for several rows (NT > SEEK_FOLD_ROWS): each row gets the operations it gets alone, one block at a time. Not
/// unrolled over the group's blocks: with the eight accumulators, eight rows' products and a
/// decoded block all live, an unrolled group spilled registers all through (kernel-bench, 8
/// rows: Q8_0 and Q4_0 16-bit +14-16%, Q5_0 +1-4%).
SEEK_AVX2_INLINE void seek_group32_many(int kind, const uint8_t *w, int g, const int m, const void *q,
                                        const float *dT, int cols, float *offsets, __m256 *acc, const int NT, const int A8) {
    float sc[8];
    seek_group_scales(kind, w, g, m, sc, offsets + 2 * g);
    // Q5 at eight rows: the group's fifth bits first, so that the loop below, with eight rows'
    // products live, does not also hold their three constants (it spilled products to the stack:
    // kernel-bench Q5_0 26.2 -> 27.8 G multiply-adds/s; at four rows it cost 5%, so only here).
    const int FIFTH = (kind == SEEK_Q5_0 || kind == SEEK_Q5_1) && NT == 8;
    const int QH = kind == SEEK_Q5_0 ? 2 : 4;  // qh's byte in a Q5 block
    __m256i fifth[8];
    if (FIFTH) {
        for (int j = 0; j < m; j++) fifth[j] = seek_fifth_bits(w + seek_block_bytes(kind) * (g + j) + QH);
    }
#pragma clang loop unroll(disable)
    for (int j = 0; j < m; j++) {
        const int b = g + j;
        SeekBlock k;
        if (FIFTH) {
            seek_take_bytes(_mm256_or_si256(seek_nibbles32(w + seek_block_bytes(kind) * b + QH + 4), fifth[j]), &k, A8);
        } else {
            k = seek_decode_block(kind, w, b, A8);
        }
        k.scaleLo = sc[j];
        acc[j] = seek_meet(kind, &k, b, q, dT, cols, acc[j], NT, A8);
    }
}

/// One weight row (`nb` blocks of 32 of format `kind`) times `NT` (≤ 8) activation rows (row t at
/// q + t·cols; the scales and sums at d + t·nb and s + 2t·nb row by row, block-major in dT
/// and sT for a group of eight): out[t]. Each block is decoded once for all rows, and each row's integer sum over
/// a block is exact before it is scaled, so every row gets exactly the float operations it
/// would get alone (one token or many give bit-identical results). Eight accumulators per row
/// (blocks b ≡ j mod 8), kept one of two ways with the same additions in the same order:
/// - "folded" (NT ≤ SEEK_FOLD_ROWS, or SEEK_FOLD_ROWS_A8 at 8 bits: decode, and a few rows of batched decode): one vector per
///   row, lane j for blocks ≡ j, each eight blocks' products summed by one tree (seek_fold8);
/// - "met" (more rows: prefill): eight vectors, acc[j] for blocks ≡ j with lane t = row t, each
///   block's sums for all rows put in one vector by one tree (seek_meet), so the scale and fma
///   cost one instruction per block for all rows instead of three per row. For two rows that
///   tree, two thirds of it summing zeros, made a block cost more than two rows alone
///   (kernel-bench, Q4_1, medians of 7: 9.4 G multiply-adds/s at two rows, 13.2 at one).
/// The weights' offsets (minimums, −8·d, −32·d·sc...) are gathered per 16 values while
/// decoding and met by each row's sums in one float dot (seek_offset_eights, seek_offset_tail;
/// the folded 32-value formats take its full eights group by group).
SEEK_AVX2_INLINE void seek_rows(int kind, const uint8_t *w, int nb, const void *q, const float *d,
                                const float *dT, const float *s, const float *sT, int cols, int nt, float *out, const int NT, const int A8) {
    const int FOLD = NT <= (A8 ? SEEK_FOLD_ROWS_A8 : SEEK_FOLD_ROWS);
    __m256 acc[8];  // met: acc[j] for blocks ≡ j (mod 8), lane t = row t
    SEEK_UNROLL
    for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
    __m256 acc1[SEEK_FOLD_ROWS];  // folded: acc1[t] lane j for row t's blocks ≡ j (mod 8)
    __m256 oacc[SEEK_FOLD_ROWS];  // folded: row t's offsets met by its sums, full eights so far
    SEEK_UNROLL
    for (int t = 0; t < SEEK_FOLD_ROWS; t++) acc1[t] = oacc[t] = _mm256_setzero_ps();
    float offsets[2 * SEEK_MAX_BLOCKS] __attribute__((aligned(32)));  // nb <= SEEK_MAX_BLOCKS (the caller checks)
    if (kind == SEEK_Q4_K) {
        // Each 32-byte load of nibbles is two blocks (low and high nibbles), met at once so the
        // decoded blocks stay in registers.
        const __m256i low = _mm256_set1_epi8(0x0F);
        for (int i = 0; i < nb / 8; i++) {
            const uint8_t *blk = w + 144 * i;
            const float dw = seek_half_to_float(blk), dmin = seek_half_to_float(blk + 2);
            // The eight 6-bit scales and minimums, all at once (as the dequantizer's scaleMinK4
            // gives them one at a time): bytes 0-3 low 6 bits = scales 0-3, bytes 4-7 = minimums 0-3; scales and
            // minimums 4-7 are the nibbles of bytes 8-11 with the top two bits of bytes 0-7.
            uint32_t u[3];
            memcpy(u, blk + 4, 12);
            const uint32_t sLo = u[0] & 0x3f3f3f3f, sHi = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
            const uint32_t mLo = u[1] & 0x3f3f3f3f, mHi = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
            float scale[8], minimum[8];
            _mm256_storeu_ps(scale, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_setr_epi32((int)sLo, (int)sHi, 0, 0))), _mm256_set1_ps(dw)));
            _mm256_storeu_ps(minimum, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_setr_epi32((int)mLo, (int)mHi, 0, 0))), _mm256_set1_ps(-dmin)));
            __m256i p[SEEK_FOLD_ROWS][8];
            SEEK_UNROLL
            for (int j = 0; j < 4; j++) {
                const __m256i raw = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * j));
                const __m256i lo = _mm256_and_si256(raw, low), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low);
                SeekBlock a, c;
                seek_take_bytes(lo, &a, A8);
                a.scaleLo = scale[2 * j];
                seek_take_bytes(hi, &c, A8);
                c.scaleLo = scale[2 * j + 1];
                const int b = 8 * i + 2 * j;
                offsets[2 * b] = offsets[2 * b + 1] = minimum[2 * j];
                offsets[2 * b + 2] = offsets[2 * b + 3] = minimum[2 * j + 1];
                if (FOLD) {
                    SEEK_UNROLL
                    for (int t = 0; t < NT; t++) {
                        p[t][2 * j] = seek_products(kind, &a, seek_act(q, (size_t)t * cols + 32 * b, A8), A8);
                        p[t][2 * j + 1] = seek_products(kind, &c, seek_act(q, (size_t)t * cols + 32 * (b + 1), A8), A8);
                    }
                } else {
                    acc[2 * j] = seek_meet(kind, &a, b, q, dT, cols, acc[2 * j], NT, A8);
                    acc[2 * j + 1] = seek_meet(kind, &c, b + 1, q, dT, cols, acc[2 * j + 1], NT, A8);
                }
            }
            if (FOLD) {
                SEEK_UNROLL
                for (int t = 0; t < NT; t++) acc1[t] = seek_fold8(p[t], scale, NULL, d + (size_t)t * nb + 8 * i, 8, acc1[t]);
            }
        }
    } else if (kind == SEEK_Q6_K) {
        SeekBlock k[8];
        for (int i = 0; i < nb / 8; i++) {
            seek_decode_q6k_superblock(w, i, k, A8);
            __m256i p[SEEK_FOLD_ROWS][8];
            float scLo[8], scHi[8];
            SEEK_UNROLL
            for (int j = 0; j < 8; j++) {
                const int b = 8 * i + j;
                offsets[2 * b] = k[j].offsetLo;
                offsets[2 * b + 1] = k[j].offsetHi;
                if (FOLD) {
                    SEEK_UNROLL
                    for (int t = 0; t < NT; t++) p[t][j] = seek_products(kind, &k[j], seek_act(q, (size_t)t * cols + 32 * b, A8), A8);
                    scLo[j] = k[j].scaleLo;
                    scHi[j] = k[j].scaleHi;
                } else {
                    acc[j] = seek_meet(kind, &k[j], b, q, dT, cols, acc[j], NT, A8);
                }
            }
            if (FOLD) {
                SEEK_UNROLL
                for (int t = 0; t < NT; t++) acc1[t] = seek_fold8(p[t], scLo, scHi, d + (size_t)t * nb + 8 * i, 8, acc1[t]);
            }
        }
    } else {
        // Whole groups of eight blocks with m a constant (no per-block tests), then the tail.
        int g = 0;
        if (FOLD) {
            for (; g + 8 <= nb; g += 8) {
                seek_group32(kind, w, g, 8, q, d, cols, nb, offsets, acc1, NT, A8);
                if (kind != SEEK_Q8_0) seek_offset_eights(offsets, s, nb, 2 * g, 2, oacc, NT);
            }
            if (g < nb) {
                seek_group32(kind, w, g, nb - g, q, d, cols, nb, offsets, acc1, NT, A8);
                if (kind != SEEK_Q8_0) seek_offset_eights(offsets, s, nb, 2 * g, 2 * (nb - g) / 8, oacc, NT);
            }
        } else {
            for (; g + 8 <= nb; g += 8) seek_group32_many(kind, w, g, 8, q, dT, cols, offsets, acc, NT, A8);
            if (g < nb) seek_group32_many(kind, w, g, nb - g, q, dT, cols, offsets, acc, NT, A8);
        }
    }
    if (FOLD) {
        // The K-quants' offsets in one pass at the end (taken in their loops, one-row Q4_K lost
        // 4% in kernel-bench); the 32-value formats took theirs group by group.
        if (kind == SEEK_Q4_K || kind == SEEK_Q6_K) seek_offset_eights(offsets, s, nb, 0, 2 * nb / 8, oacc, NT);
        SEEK_UNROLL
        for (int t = 0; t < NT; t++) {
            float a[8];
            _mm256_storeu_ps(a, acc1[t]);
            out[t] = seek_tree8(a);
            if (kind != SEEK_Q8_0) out[t] += seek_offset_tail(oacc[t], offsets, s + (size_t)t * 2 * nb, 2 * nb);
        }
        return;
    }
    // The same additions, lane by lane.
    __m256 sums = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])),
                                _mm256_add_ps(_mm256_add_ps(acc[4], acc[5]), _mm256_add_ps(acc[6], acc[7])));
    if (kind != SEEK_Q8_0) sums = _mm256_add_ps(sums, seek_offset_dot8(offsets, sT, 2 * nb));
    float lanes[8];
    _mm256_storeu_ps(lanes, sums);
    for (int t = 0; t < nt; t++) out[t] = lanes[t];
}

/// seek_rows for one format and activation width, its row count a constant: one function per
/// (format, width), not inlined into the entry points. (Everything inlined into one function
/// gave it, unoptimized as in debug builds, a stack frame of over 8 MiB: every inlined copy
/// keeps its own temporaries.)
#define SEEK_ROWS_FN(NAME, KIND, A8)                                                                              \
    static __attribute__((noinline, target("avx2,fma,f16c"))) void NAME(                                        \
        const uint8_t *w, int nb, const void *q, const float *d, const float *dT, const float *s, const float *sT, \
        int cols, int nt, float *out) {                                                                          \
        switch (nt) {                                                                                            \
        case 1: seek_rows(KIND, w, nb, q, d, dT, s, sT, cols, 1, out, 1, A8); break;                             \
        case 2: seek_rows(KIND, w, nb, q, d, dT, s, sT, cols, 2, out, 2, A8); break;                             \
        case 3: seek_rows(KIND, w, nb, q, d, dT, s, sT, cols, 3, out, 3, A8); break;                             \
        case 4: seek_rows(KIND, w, nb, q, d, dT, s, sT, cols, 4, out, 4, A8); break;                             \
        case 5: seek_rows(KIND, w, nb, q, d, dT, s, sT, cols, 5, out, 5, A8); break;                             \
        case 6: seek_rows(KIND, w, nb, q, d, dT, s, sT, cols, 6, out, 6, A8); break;                             \
        case 7: seek_rows(KIND, w, nb, q, d, dT, s, sT, cols, 7, out, 7, A8); break;                             \
        default: seek_rows(KIND, w, nb, q, d, dT, s, sT, cols, 8, out, 8, A8); break;                            \
        }                                                                                                        \
    }
SEEK_ROWS_FN(seek_rows_q8_0_a16, SEEK_Q8_0, 0)
SEEK_ROWS_FN(seek_rows_q4_0_a16, SEEK_Q4_0, 0)
SEEK_ROWS_FN(seek_rows_q4_1_a16, SEEK_Q4_1, 0)
SEEK_ROWS_FN(seek_rows_q5_0_a16, SEEK_Q5_0, 0)
SEEK_ROWS_FN(seek_rows_q5_1_a16, SEEK_Q5_1, 0)
SEEK_ROWS_FN(seek_rows_q4_k_a16, SEEK_Q4_K, 0)
SEEK_ROWS_FN(seek_rows_q6_k_a16, SEEK_Q6_K, 0)
SEEK_ROWS_FN(seek_rows_q8_0_a8, SEEK_Q8_0, 1)
SEEK_ROWS_FN(seek_rows_q4_0_a8, SEEK_Q4_0, 1)
SEEK_ROWS_FN(seek_rows_q4_1_a8, SEEK_Q4_1, 1)
SEEK_ROWS_FN(seek_rows_q5_0_a8, SEEK_Q5_0, 1)
SEEK_ROWS_FN(seek_rows_q5_1_a8, SEEK_Q5_1, 1)
SEEK_ROWS_FN(seek_rows_q4_k_a8, SEEK_Q4_K, 1)
SEEK_ROWS_FN(seek_rows_q6_k_a8, SEEK_Q6_K, 1)
#undef SEEK_ROWS_FN

/// The entry points below for one activation width: A8 = 0 for 16-bit activations, 1 for 8-bit.
SEEK_AVX2_INLINE void seek_dot_rows_with(int kind, const uint8_t *w, int nb, const void *q, const float *d,
                                         const float *dT, const float *s, const float *sT, int cols, int nt, float *out, const int A8) {
    switch (kind) {
    case SEEK_Q8_0: (A8 ? seek_rows_q8_0_a8 : seek_rows_q8_0_a16)(w, nb, q, d, dT, s, sT, cols, nt, out); break;
    case SEEK_Q4_0: (A8 ? seek_rows_q4_0_a8 : seek_rows_q4_0_a16)(w, nb, q, d, dT, s, sT, cols, nt, out); break;
    case SEEK_Q4_1: (A8 ? seek_rows_q4_1_a8 : seek_rows_q4_1_a16)(w, nb, q, d, dT, s, sT, cols, nt, out); break;
    case SEEK_Q5_0: (A8 ? seek_rows_q5_0_a8 : seek_rows_q5_0_a16)(w, nb, q, d, dT, s, sT, cols, nt, out); break;
    case SEEK_Q5_1: (A8 ? seek_rows_q5_1_a8 : seek_rows_q5_1_a16)(w, nb, q, d, dT, s, sT, cols, nt, out); break;
    case SEEK_Q4_K: (A8 ? seek_rows_q4_k_a8 : seek_rows_q4_k_a16)(w, nb, q, d, dT, s, sT, cols, nt, out); break;
    default: (A8 ? seek_rows_q6_k_a8 : seek_rows_q6_k_a16)(w, nb, q, d, dT, s, sT, cols, nt, out); break;
    }
}

/// One row: seek_rows inlined for the format (decode's loop keeps it inline: through the
/// per-format functions above, one-row Q8_0 and Q4_1 ran 5-9% slower).
SEEK_AVX2_INLINE void seek_one_row_with(int kind, const uint8_t *w, int nb, const void *q, const float *d, const float *s,
                                        int cols, float *out, const int A8) {
    switch (kind) {
    case SEEK_Q8_0: seek_rows(SEEK_Q8_0, w, nb, q, d, NULL, s, NULL, cols, 1, out, 1, A8); break;
    case SEEK_Q4_0: seek_rows(SEEK_Q4_0, w, nb, q, d, NULL, s, NULL, cols, 1, out, 1, A8); break;
    case SEEK_Q4_1: seek_rows(SEEK_Q4_1, w, nb, q, d, NULL, s, NULL, cols, 1, out, 1, A8); break;
    case SEEK_Q5_0: seek_rows(SEEK_Q5_0, w, nb, q, d, NULL, s, NULL, cols, 1, out, 1, A8); break;
    case SEEK_Q5_1: seek_rows(SEEK_Q5_1, w, nb, q, d, NULL, s, NULL, cols, 1, out, 1, A8); break;
    case SEEK_Q4_K: seek_rows(SEEK_Q4_K, w, nb, q, d, NULL, s, NULL, cols, 1, out, 1, A8); break;
    default: seek_rows(SEEK_Q6_K, w, nb, q, d, NULL, s, NULL, cols, 1, out, 1, A8); break;
    }
}

SEEK_AVX2_INLINE void seek_dot_each_row_with(int kind, const uint8_t *w, size_t rowBytes, int first, int last, int nb,
                                             const void *q, const float *d, const float *s, int cols, float *out, const int A8) {
    const size_t ahead = 6144;
    const uint8_t *end = w + rowBytes * (size_t)last;
    for (int r = first; r < last; r++) {
        const uint8_t *row = w + rowBytes * (size_t)r;
        for (const uint8_t *p = row + ahead; p < row + ahead + rowBytes && p < end; p += 64) _mm_prefetch((const char *)p, _MM_HINT_T0);
        seek_one_row_with(kind, row, nb, q, d, s, cols, out + r, A8);
    }
}

/// Batched decode's product (nt = 2..8 activation rows, a group of eight from row 0): weight rows
/// first..<last, each met by all nt rows through seek_rows (the same function per row as a
/// prefill tile's call), out[t·ostride + r]; the weight bytes ~6 KiB ahead asked for as one
/// row's loop does. (The tiled loop, one call from Swift per weight row and no prefetch, left
/// two-stream decode of SmolLM2 at 1.15x one stream's rate where the kernel alone gives 1.7x.)
SEEK_AVX2_INLINE void seek_dot_each_row_few_with(int kind, const uint8_t *w, size_t rowBytes, int first, int last, int nb,
                                                 const void *q, const float *d, const float *dT, const float *s,
                                                 const float *sT, int cols, int nt, float *out, size_t ostride, const int A8) {
    const size_t ahead = 6144;
    const uint8_t *end = w + rowBytes * (size_t)last;
    float o[8];
    for (int r = first; r < last; r++) {
        const uint8_t *row = w + rowBytes * (size_t)r;
        for (const uint8_t *p = row + ahead; p < row + ahead + rowBytes && p < end; p += 64) _mm_prefetch((const char *)p, _MM_HINT_T0);
        seek_dot_rows_with(kind, row, nb, q, d, dT, s, sT, cols, nt, o, A8);
        for (int t = 0; t < nt; t++) out[(size_t)t * ostride + r] = o[t];
    }
}

/// One weight row of format `kind` (`nb` blocks of 32 values) times `nt` 16-bit activation
/// rows of `cols` values each (nt = 1 for decode; up to 8 at once for prefill and batched
/// decode): out[0..nt). `d` and `s` are the scales and sums of one row (used when nt = 1),
/// `dT` and `sT` those of a group of eight rows block-major, dT[8b + t] and sT[8j + t] (used
/// when nt > 1; lanes t ≥ nt are ignored).
SEEK_AVX2 void seek_dot_rows(int kind, const uint8_t *w, int nb, const int16_t *q, const float *d,
                             const float *dT, const float *s, const float *sT, int cols, int nt, float *out) {
    seek_dot_rows_with(kind, w, nb, q, d, dT, s, sT, cols, nt, out, 0);
}

/// seek_dot_rows for 8-bit activations (seek_quantize_q8): the same blocks, sums and order.
SEEK_AVX2 void seek_dot_rows_q8(int kind, const uint8_t *w, int nb, const int8_t *q, const float *d,
                                const float *dT, const float *s, const float *sT, int cols, int nt, float *out) {
    seek_dot_rows_with(kind, w, nb, q, d, dT, s, sT, cols, nt, out, 1);
}

/// Decode's product: weight rows first..<last (each `rowBytes` long, `nb` blocks of format
/// `kind`) times one activation row, out[r] for each r. The same kernel as seek_dot_rows with
/// nt = 1, row after row, with the weight bytes about 6 KiB ahead asked for in advance: the
/// hardware prefetcher alone left one-row decode waiting on memory (Q4_1, 800000 rows out
/// of cache, `scripts/kernel-bench.c`: 6-11 G multiply-adds/s without, 11.7-12.3 with).
SEEK_AVX2 void seek_dot_each_row(int kind, const uint8_t *w, size_t rowBytes, int first, int last, int nb,
                                 const int16_t *q, const float *d, const float *s, int cols, float *out) {
    seek_dot_each_row_with(kind, w, rowBytes, first, last, nb, q, d, s, cols, out, 0);
}

/// seek_dot_each_row for nt = 2..8 activation rows (batched decode): out[t·ostride + r]. `dT`
/// and `sT` are the rows' scales and sums block-major (their group of eight).
SEEK_AVX2 void seek_dot_each_row_few(int kind, const uint8_t *w, size_t rowBytes, int first, int last, int nb,
                                     const int16_t *q, const float *d, const float *dT, const float *s, const float *sT,
                                     int cols, int nt, float *out, size_t ostride) {
    seek_dot_each_row_few_with(kind, w, rowBytes, first, last, nb, q, d, dT, s, sT, cols, nt, out, ostride, 0);
}

/// seek_dot_each_row_few for 8-bit activations.
SEEK_AVX2 void seek_dot_each_row_few_q8(int kind, const uint8_t *w, size_t rowBytes, int first, int last, int nb,
                                        const int8_t *q, const float *d, const float *dT, const float *s, const float *sT,
                                        int cols, int nt, float *out, size_t ostride) {
    seek_dot_each_row_few_with(kind, w, rowBytes, first, last, nb, q, d, dT, s, sT, cols, nt, out, ostride, 1);
}

/// seek_dot_each_row for 8-bit activations.
SEEK_AVX2 void seek_dot_each_row_q8(int kind, const uint8_t *w, size_t rowBytes, int first, int last, int nb,
                                    const int8_t *q, const float *d, const float *s, int cols, float *out) {
    seek_dot_each_row_with(kind, w, rowBytes, first, last, nb, q, d, s, cols, out, 1);
}

#else  // not x86-64: no SIMD kernels here; Swift takes its own paths.

static inline int seek_cpu_has_avx2(void) { return 0; }
static inline void seek_exp_floats(const float *x, int n, float *y) {}
static inline void seek_swiglu(float *gate, const float *up, int n) {}
static inline float seek_exp_weights(const float *x, int n, float shift, float scale, float floor, float *y) { return 0; }
enum { SEEK_Q8_0 = 0, SEEK_Q4_0 = 1, SEEK_Q4_1 = 2, SEEK_Q5_0 = 3, SEEK_Q5_1 = 4, SEEK_Q4_K = 5, SEEK_Q6_K = 6 };
enum { SEEK_MAX_BLOCKS = 1024 };
static inline void seek_quantize_q16(const float *x, int n, int16_t *q, float *d, float *s) {}
static inline void seek_dot_rows(int kind, const uint8_t *w, int nb, const int16_t *q, const float *d,
                                 const float *dT, const float *s, const float *sT, int cols, int nt, float *out) {}
static inline float seek_dot_f32(const float *a, const float *b, int n) { return 0; }
static inline void seek_attend_head(const float *q, const float *keys, const float *values, size_t stride, int n, int hd,
                                    int vd, float scale, float *scores, float *out) {}
static inline void seek_axpy(float a, const float *x, float *y, int n) {}
static inline void seek_attend_head_f16(const float *q, const uint16_t *keys, const uint16_t *values, size_t stride, int n,
                                        int hd, int vd, float scale, float *scores, float *out) {}
static inline void seek_float_to_half(const float *x, uint16_t *y, int n) {}
static inline void seek_attend_shared(const float *q, size_t qstride, int nq, const float *keys, const float *values, size_t stride,
                                      int n, int hd, int vd, float scale, float *scores, float *out, size_t ostride) {}
static inline void seek_attend_shared_f16(const float *q, size_t qstride, int nq, const uint16_t *keys, const uint16_t *values,
                                          size_t stride, int n, int hd, int vd, float scale, float *scores, float *out, size_t ostride) {}
static inline float seek_dot_f16(const uint16_t *w, const float *x, int n) { return 0; }
static inline void seek_quantize_q8(const float *x, int n, int8_t *q, float *d, float *s) {}
static inline void seek_dot_rows_q8(int kind, const uint8_t *w, int nb, const int8_t *q, const float *d,
                                    const float *dT, const float *s, const float *sT, int cols, int nt, float *out) {}
static inline void seek_dot_each_row_q8(int kind, const uint8_t *w, size_t rowBytes, int first, int last, int nb,
                                        const int8_t *q, const float *d, const float *s, int cols, float *out) {}
static inline void seek_dot_each_row(int kind, const uint8_t *w, size_t rowBytes, int first, int last, int nb,
                                     const int16_t *q, const float *d, const float *s, int cols, float *out) {}
static inline void seek_dot_each_row_few(int kind, const uint8_t *w, size_t rowBytes, int first, int last, int nb,
                                         const int16_t *q, const float *d, const float *dT, const float *s, const float *sT,
                                         int cols, int nt, float *out, size_t ostride) {}
static inline void seek_dot_each_row_few_q8(int kind, const uint8_t *w, size_t rowBytes, int first, int last, int nb,
                                            const int8_t *q, const float *d, const float *dT, const float *s, const float *sT,
                                            int cols, int nt, float *out, size_t ostride) {}

#endif
#endif
