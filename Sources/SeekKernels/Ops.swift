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

/// SwiGLU: `gate[i] = silu(gate[i]) * up[i]`.
@inlinable
public func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n {
        let g = gate[i]
        gate[i] = g / (1 + expf(-g)) * up[i]
    }
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
