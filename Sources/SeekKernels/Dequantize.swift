import CSeekSIMD
import SeekFormats

/// Decodes one block of a tensor type into `type.blockSize` floats.
public typealias BlockDecoder = (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void

extension GGMLType {
    /// The block decoder for types we can compute with, nil for the rest (integer tensors, Q8_K/Q8_1).
    public var blockDecoder: BlockDecoder? {
        switch self {
        case .f32: dequantizeBlockF32
        case .f16: dequantizeBlockF16
        case .bf16: dequantizeBlockBF16
        case .q4_0: dequantizeBlockQ4_0
        case .q4_1: dequantizeBlockQ4_1
        case .q5_0: dequantizeBlockQ5_0
        case .q5_1: dequantizeBlockQ5_1
        case .q8_0: dequantizeBlockQ8_0
        case .q2_K: dequantizeBlockQ2_K
        case .q3_K: dequantizeBlockQ3_K
        case .q4_K: dequantizeBlockQ4_K
        case .q5_K: dequantizeBlockQ5_K
        case .q6_K: dequantizeBlockQ6_K
        default: nil
        }
    }
}

/// Dequantizes `count` values (a whole number of blocks) from `src` into `dst`.
/// Bit-exact with the `gguf` package's dequantizer (tested on committed fixtures).
@inlinable
public func dequantizeRow(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    switch type {
    case .f32:
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
    case .f16:
        for i in 0..<count { dst[i] = loadHalf(src, 2 * i) }
    default:
        guard let decode = type.blockDecoder else { preconditionFailure("no decoder for \(type)") }
        let bs = type.blockSize, ts = type.typeSize
        for b in 0..<(count / bs) { decode(src + b * ts, dst + b * bs) }
    }
}

/// Dot products are summed in chunks of this many values (one float dot per chunk, chunk
/// results added in order), by every path: decode (`dotRow`) and prefill (`dotChunked`)
/// give bit-identical results, so a cached decode equals a full recompute exactly.
public let dotChunk = 256

/// `sum(row[i] * x[i])` for one row of `count` values of `type`; blocks are decoded into a
/// small stack buffer one chunk at a time, so nothing is allocated and the row is read once.
@inlinable
public func dotRow(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    switch type {
    case .f32: return dotChunkedF32(row.assumingMemoryBound(to: Float.self), x, count)
    case .f16 where KernelSettings.hasAVX2: return dotChunkedF16(row, x, count)
    case .q8_0: return dotRowQ8_0(row, x, count: count)
    case .q4_0: return dotRowQ4_0(row, x, count: count)
    case .q4_1: return dotRowQ4_1(row, x, count: count)
    case .q5_0: return dotRowQ5_0(row, x, count: count)
    case .q5_1: return dotRowQ5_1(row, x, count: count)
    case .q4_K: return dotRowQ4_K(row, x, count: count)
    case .q6_K: return dotRowQ6_K(row, x, count: count)
    default: return dotRowDecoded(type, row, x, count: count)
    }
}

/// The generic path (and the reference for the fused kernels): decode one chunk of blocks
/// into a stack buffer, then `dotF32` it.
@inlinable
public func dotRowDecoded(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    guard let decode = type.blockDecoder else { preconditionFailure("no decoder for \(type)") }
    let bs = type.blockSize, ts = type.typeSize
    let group = max(1, dotChunk / bs)
    return withUnsafeTemporaryAllocation(of: Float.self, capacity: bs * group) { tmp in
        let t = tmp.baseAddress!
        var sum: Float = 0
        let blocks = count / bs
        var b = 0
        while b < blocks {
            let n = min(group, blocks - b)
            for k in 0..<n { decode(row + (b + k) * ts, t + k * bs) }
            sum += dotF32Portable(t, x + b * bs, n * bs)
            b += n
        }
        return sum
    }
}

/// `dot(start, count)` over `0..<n` in pieces of `dotChunk`, the piece results added in order:
/// the summation order every row dot shares, so decode and prefill agree bit for bit.
@inlinable @inline(__always)
func sumPerChunk(_ n: Int, _ dot: (Int, Int) -> Float) -> Float {
    var sum: Float = 0
    var i = 0
    while i < n {
        let m = min(dotChunk, n - i)
        sum += dot(i, m)
        i += m
    }
    return sum
}

/// `sum(a[i] * b[i])` summed per `dotChunk` values with the portable float dot: the same
/// order as the fused float kernels of `dotRow` (the exact path's prefill).
@inlinable
public func dotChunked(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    sumPerChunk(n) { dotF32Portable(a + $0, b + $0, $1) }
}

/// F32 weight rows: per `dotChunk` with the fastest float dot (AVX2 where there is one).
/// `matmul` uses it for every token of F32 weights, so decode and prefill still agree.
@inlinable
public func dotChunkedF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    sumPerChunk(n) { dotF32(a + $0, b + $0, $1) }
}

/// An F16 row times floats with F16C conversion (AVX2 machines), summed per `dotChunk`.
public func dotChunkedF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    let w = row.assumingMemoryBound(to: UInt16.self)
    return sumPerChunk(n) { seek_dot_f16(w + $0, x + $0, Int32($1)) }
}

/// Float dot product: AVX2/FMA with four accumulators where the CPU has it, else
/// `dotF32Portable`.
@inlinable
public func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    if KernelSettings.hasAVX2 { return seek_dot_f32(a, b, Int32(n)) }
    return dotF32Portable(a, b, n)
}

/// Float dot product with eight-wide SIMD and two accumulators (baseline x86-64 and the reference).
@inlinable
public func dotF32Portable(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 16 <= n {
        acc0 += ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        acc1 += ra.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
        i += 16
    }
    var s = (acc0 + acc1).sum()
    while i < n {
        s += a[i] * b[i]
        i += 1
    }
    return s
}
