import CSeekSIMD
import Foundation

/// RMSNorm of one row: `out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]`.
/// The sum of squares is accumulated in Double so long rows lose nothing.
@inlinable
public func rmsNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                    count n: Int, eps: Float) {
    var ss: Double = 0
    for i in 0..<n { ss += Double(x[i]) * Double(x[i]) }
    let scale = Float(1.0 / (ss / Double(n) + Double(eps)).squareRoot())
    for i in 0..<n { out[i] = x[i] * scale * weight[i] }
}

/// In-place softmax over `n` values.
@inlinable
public func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    var m = -Float.infinity
    for i in 0..<n where x[i] > m { m = x[i] }
    var sum: Float = 0
    for i in 0..<n {
        let e = expf(x[i] - m)
        x[i] = e
        sum += e
    }
    let inv = 1 / sum
    for i in 0..<n { x[i] *= inv }
}

/// SwiGLU: `gate[i] = silu(gate[i]) * up[i]`, with `expFast`'s e^x (AVX2 where the CPU has
/// it, else `swigluReference`: the same values).
public func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
    if KernelSettings.hasAVX2 { return seek_swiglu(gate, up, Int32(n)) }
    swigluReference(gate, up, count: n)
}

/// The portable path and the reference for `swiglu`.
public func swigluReference(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n {
        let g = gate[i]
        gate[i] = g / (1 + expReference(-g)) * up[i]
    }
}

/// e^x as the SIMD kernels compute it (`seek_exp8`), one value at a time: x = n·ln 2 + r with
/// n = round(x·log2 e) and r from a two-part ln 2, e^r by Cephes' degree-6 polynomial, times
/// 2^n. Within 2 ulp of e^x; 0 below -87.33654 (e^x under the smallest normal float) and for
/// -inf, e^88 above 88, NaN for NaN. The same fused multiply-adds as the kernel, so the two
/// agree bit for bit.
public func expReference(_ x: Float) -> Float {
    if x.isNaN { return x }
    if x < -87.33654 { return 0 }
    let c = Swift.min(x, 88)
    let n = (c * 1.44269504088896341).rounded(.toNearestOrEven)
    var r = c.addingProduct(-n, 0.693359375)
    r = r.addingProduct(-n, -2.12194440e-4)
    var p: Float = 1.9875691500e-4
    p = Float(1.3981999507e-3).addingProduct(p, r)
    p = Float(8.3334519073e-3).addingProduct(p, r)
    p = Float(4.1665795894e-2).addingProduct(p, r)
    p = Float(1.6666665459e-1).addingProduct(p, r)
    p = Float(5.0000001201e-1).addingProduct(p, r)
    let y = r.addingProduct(p, r * r) + 1
    return y * Float(sign: .plus, exponent: Int(n), significand: 1)
}

/// `y[i] = e^x[i]` for `count` values (`seek_exp8` on AVX2, else `expReference`).
public func expFast(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
    if KernelSettings.hasAVX2 { return seek_exp_floats(x, Int32(n), y) }
    for i in 0..<n { y[i] = expReference(x[i]) }
}

/// A sampler's unnormalised probabilities: `y[i] = e^((x[i] - shift) * scale)` where
/// `x[i] >= floor`, else 0 (NaN too); returns their sum (eight lane sums, then the rest in order,
/// on both paths). AVX2 where the CPU has it, else `expWeightsReference`.
public func expWeights(_ x: UnsafePointer<Float>, count n: Int, shift: Float, scale: Float, floor: Float,
                       into y: UnsafeMutablePointer<Float>) -> Float {
    if KernelSettings.hasAVX2 { return seek_exp_weights(x, Int32(n), shift, scale, floor, y) }
    return expWeightsReference(x, count: n, shift: shift, scale: scale, floor: floor, into: y)
}

/// The portable path and the reference for `expWeights`: the same values and the same
/// order of additions.
public func expWeightsReference(_ x: UnsafePointer<Float>, count n: Int, shift: Float, scale: Float, floor: Float,
                                into y: UnsafeMutablePointer<Float>) -> Float {
    var lanes = [Float](repeating: 0, count: 8)
    let whole = n / 8 * 8
    for i in 0..<n {
        y[i] = x[i] >= floor ? expReference((x[i] - shift) * scale) : 0
        if i < whole { lanes[i % 8] += y[i] }
    }
    // seek_hsum's order: ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
    var total = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]))
    for i in whole..<n { total += y[i] }
    return total
}

/// `y[i] += x[i]`.
@inlinable
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n { y[i] += x[i] }
}

/// `y[i] = a * x[i] + y[i]` (attention's weighted sum of values).
@inlinable
public func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
    if KernelSettings.hasAVX2 { return seek_axpy(a, x, y, Int32(n)) }
    axpyPortable(a, x, y, count: n)
}

/// `y += a * x` with eight-wide SIMD (baseline x86-64, and the reference).
@inlinable
public func axpyPortable(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
    var i = 0
    let s = SIMD8<Float>(repeating: a)
    while i + 8 <= n {
        let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv + s * xv, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n {
        y[i] += a * x[i]
        i += 1
    }
}

/// LayerNorm of one row in place: `(x - mean) / sqrt(var + eps) * weight + bias`.
@inlinable
public func layerNorm(_ x: UnsafeMutablePointer<Float>, _ weight: [Float], _ bias: [Float], count n: Int, eps: Float) {
    var mean: Double = 0
    for i in 0..<n { mean += Double(x[i]) }
    mean /= Double(n)
    var variance: Double = 0
    for i in 0..<n { variance += (Double(x[i]) - mean) * (Double(x[i]) - mean) }
    variance /= Double(n)
    let inv = 1 / (variance + Double(eps)).squareRoot()
    for i in 0..<n { x[i] = Float((Double(x[i]) - mean) * inv) * weight[i] + bias[i] }
}

/// One query head's causal attention over `count` cached positions: scores = scale·q·K[p]
/// (over `headSize` values), softmax, out = Σ scores[p]·V[p] (over `valueSize` values,
/// default `headSize`; MLA's absorbed attention has K = [latent, rope key], V = the latent).
/// K and V rows are `stride` floats apart; `scores` is scratch for `count` floats. AVX2 where
/// the CPU has it (and both sizes are multiples of 8), else `attendHeadReference`.
public func attendHead(_ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
                       count n: Int, headSize hd: Int, valueSize: Int? = nil, scale: Float,
                       scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
    let vd = valueSize ?? hd
    if KernelSettings.hasAVX2 && hd % 8 == 0 && vd % 8 == 0 {
        seek_attend_head(q, keys, values, stride, Int32(n), Int32(hd), Int32(vd), scale, scores, out)
    } else {
        attendHeadReference(q, keys: keys, values: values, stride: stride, count: n, headSize: hd, valueSize: vd, scale: scale,
                            scores: scores, out: out)
    }
}

/// `queries` queries (rows `queryStride` floats apart) attending to the same cached rows, as
/// all of a token's heads do in MLA's absorbed attention: out row i (`outStride` apart) is
/// what `attendHead` gives query i. AVX2 meets each key and value row with four queries at a
/// time (read once per four heads); elsewhere, `attendHeadReference` per query. `scores` is
/// scratch for `queries × count` floats.
public func attendShared(_ q: UnsafePointer<Float>, queryStride: Int, queries nq: Int, keys: UnsafePointer<Float>,
                         values: UnsafePointer<Float>, stride: Int, count n: Int, headSize hd: Int, valueSize vd: Int,
                         scale: Float, scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, outStride: Int) {
    if KernelSettings.hasAVX2 && hd % 8 == 0 && vd % 8 == 0 {
        seek_attend_shared(q, queryStride, Int32(nq), keys, values, stride, Int32(n), Int32(hd), Int32(vd), scale, scores, out, outStride)
    } else {
        for i in 0..<nq {
            attendHeadReference(q + i * queryStride, keys: keys, values: values, stride: stride, count: n, headSize: hd,
                                valueSize: vd, scale: scale, scores: scores + i * n, out: out + i * outStride)
        }
    }
}

/// `attendShared` over an f16 KV cache (the query heads of one key/value head in grouped-query
/// attention): out row i is what `attendHeadHalf` gives query i, to float rounding (the sums
/// run in another order). Elsewhere, `attendHeadHalfReference` per query.
public func attendSharedHalf(_ q: UnsafePointer<Float>, queryStride: Int, queries nq: Int, keys: UnsafePointer<UInt16>,
                             values: UnsafePointer<UInt16>, stride: Int, count n: Int, headSize hd: Int, valueSize vd: Int,
                             scale: Float, scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, outStride: Int) {
    if KernelSettings.hasAVX2 && hd % 8 == 0 && vd % 8 == 0 {
        seek_attend_shared_f16(q, queryStride, Int32(nq), keys, values, stride, Int32(n), Int32(hd), Int32(vd), scale, scores, out, outStride)
    } else {
        for i in 0..<nq {
            attendHeadHalfReference(q + i * queryStride, keys: keys, values: values, stride: stride, count: n, headSize: hd,
                                    valueSize: vd, scale: scale, scores: scores + i * n, out: out + i * outStride)
        }
    }
}

/// `attendHead` over an f16 KV cache: K and V rows are f16 bits, `stride` numbers apart.
/// F16C/AVX2 where the CPU has it, else the reference (rows widened to f32 first).
public func attendHeadHalf(_ q: UnsafePointer<Float>, keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>, stride: Int,
                           count n: Int, headSize hd: Int, valueSize: Int? = nil, scale: Float,
                           scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
    let vd = valueSize ?? hd
    if KernelSettings.hasAVX2 && hd % 8 == 0 && vd % 8 == 0 {
        seek_attend_head_f16(q, keys, values, stride, Int32(n), Int32(hd), Int32(vd), scale, scores, out)
    } else {
        attendHeadHalfReference(q, keys: keys, values: values, stride: stride, count: n, headSize: hd, valueSize: vd,
                                scale: scale, scores: scores, out: out)
    }
}

/// The portable path and the reference for `attendHeadHalf`: each row widened exactly to f32,
/// then `attendHeadReference`.
public func attendHeadHalfReference(_ q: UnsafePointer<Float>, keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>,
                                    stride: Int, count n: Int, headSize hd: Int, valueSize: Int? = nil, scale: Float,
                                    scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
    let vd = valueSize ?? hd
    var k = [Float](repeating: 0, count: max(1, n * hd)), v = [Float](repeating: 0, count: max(1, n * vd))
    for p in 0..<n {
        for i in 0..<hd { k[p * hd + i] = halfToFloat(keys[p * stride + i]) }
        for i in 0..<vd { v[p * vd + i] = halfToFloat(values[p * stride + i]) }
    }
    // Keys and values are packed separately here, so each has its own stride.
    k.withUnsafeBufferPointer { kp in
        for p in 0..<n { scores[p] = dotF32Portable(q, kp.baseAddress! + p * hd, hd) * scale }
    }
    softmax(scores, count: n)
    out.initialize(repeating: 0, count: vd)
    v.withUnsafeBufferPointer { vp in
        for p in 0..<n { axpyPortable(scores[p], vp.baseAddress! + p * vd, out, count: vd) }
    }
}

/// `count` floats to f16 bits (round to nearest even): F16C where the CPU has it, else Swift's
/// `Float16` conversion (the same rounding).
public func floatToHalf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<UInt16>, count n: Int) {
    if KernelSettings.hasAVX2 { return seek_float_to_half(x, y, Int32(n)) }
    for i in 0..<n { y[i] = Float16(x[i]).bitPattern }
}

/// The portable path and the reference for `attendHead`.
public func attendHeadReference(_ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
                                count n: Int, headSize hd: Int, valueSize: Int? = nil, scale: Float,
                                scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
    let vd = valueSize ?? hd
    for p in 0..<n { scores[p] = dotF32Portable(q, keys + p * stride, hd) * scale }
    softmax(scores, count: n)
    out.initialize(repeating: 0, count: vd)
    for p in 0..<n { axpyPortable(scores[p], values + p * stride, out, count: vd) }
}
