// Fused decode-and-dot kernels for the block types our models use most. Each computes
// exactly what `dequantizeRow` followed by `dotChunked` computes — the same per-value
// rounding (d * q, then + m), the same two eight-wide accumulators in the same order, the
// same per-`dotChunk` partial sums — so decode results stay bit-identical to prefill and to
// the reference path (tested), while skipping the store and reload of decoded values.
// The scalar reference for each is its `dequantizeBlock…` beside it plus `dotF32`.

@inlinable @inline(__always)
func loadX(_ x: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inlinable @inline(__always)
func floats(_ v: SIMD8<UInt8>) -> SIMD8<Float> {
    SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: v))
}

/// Widening through SIMD8 only: the SIMD16 conversions are not specialized in the standard
/// library and fall back to a generic, per-element call.
@inlinable @inline(__always)
func ints(_ v: SIMD8<UInt8>) -> SIMD8<Int32> {
    SIMD8<Int32>(truncatingIfNeeded: v)
}

@inlinable @inline(__always)
func floats(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD8<Float>(v)
}

/// One block format's fused kernel: adds `value * x` for the block's values to the two
/// accumulators (groups of eight alternate between them, as in `dotF32`).
/// A protocol rather than a closure so each format's loop is specialized; the block kernel
/// itself stays out of line: inlined into the loop, baseline x86-64 (16 SSE registers)
/// spills the accumulators and decode ran 34% slower (22.8 vs 34.7 tok/s on SmolLM2).
@usableFromInline
protocol FusedBlock {
    static var blockSize: Int { get }
    static var typeSize: Int { get }
    static func accumulate(_ blk: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ acc0: inout SIMD8<Float>, _ acc1: inout SIMD8<Float>)
}

/// Runs a format's kernel over a row's blocks with fresh accumulators for every `dotChunk`
/// values and adds the chunk sums in order, like `dotChunked`.
@inlinable @inline(__always)
func chunkedBlockDot<B: FusedBlock>(_: B.Type, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    let blocks = count / B.blockSize
    let perChunk = max(1, dotChunk / B.blockSize)
    var sum: Float = 0
    var b = 0
    while b < blocks {
        let n = min(perChunk, blocks - b)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        for k in 0..<n { B.accumulate(row + (b + k) * B.typeSize, x + (b + k) * B.blockSize, &acc0, &acc1) }
        sum += (acc0 + acc1).sum()
        b += n
    }
    return sum
}

@usableFromInline
enum FusedQ8_0: FusedBlock {
    @usableFromInline static var blockSize: Int { 32 }
    @usableFromInline static var typeSize: Int { 34 }
    @inlinable @inline(never)
    static func accumulate(_ blk: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ acc0: inout SIMD8<Float>, _ acc1: inout SIMD8<Float>) {
            let d = SIMD8<Float>(repeating: loadHalf(blk, 0))
            for g in stride(from: 0, to: 32, by: 16) {
                let q0 = (blk + 2).loadUnaligned(fromByteOffset: g, as: SIMD8<Int8>.self)
                let q1 = (blk + 2).loadUnaligned(fromByteOffset: g + 8, as: SIMD8<Int8>.self)
                acc0 += SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q0)) * d * loadX(xb, g)
                acc1 += SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: q1)) * d * loadX(xb, g + 8)
            }
    }
}

@inlinable
public func dotRowQ8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    chunkedBlockDot(FusedQ8_0.self, row, x, count: count)
}

@usableFromInline
enum FusedQ4_0: FusedBlock {
    @usableFromInline static var blockSize: Int { 32 }
    @usableFromInline static var typeSize: Int { 18 }
    @inlinable @inline(never)
    static func accumulate(_ blk: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ acc0: inout SIMD8<Float>, _ acc1: inout SIMD8<Float>) {
            let d = SIMD8<Float>(repeating: loadHalf(blk, 0))
            let bytes = (blk + 2).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo = bytes & 0x0F, hi = bytes &>> 4
            acc0 += floats(ints(lo.lowHalf) &- 8) * d * loadX(xb, 0)
            acc1 += floats(ints(lo.highHalf) &- 8) * d * loadX(xb, 8)
            acc0 += floats(ints(hi.lowHalf) &- 8) * d * loadX(xb, 16)
            acc1 += floats(ints(hi.highHalf) &- 8) * d * loadX(xb, 24)
    }
}

@inlinable
public func dotRowQ4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    chunkedBlockDot(FusedQ4_0.self, row, x, count: count)
}

@usableFromInline
enum FusedQ4_1: FusedBlock {
    @usableFromInline static var blockSize: Int { 32 }
    @usableFromInline static var typeSize: Int { 20 }
    @inlinable @inline(never)
    static func accumulate(_ blk: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ acc0: inout SIMD8<Float>, _ acc1: inout SIMD8<Float>) {
            let d = SIMD8<Float>(repeating: loadHalf(blk, 0))
            let m = SIMD8<Float>(repeating: loadHalf(blk, 2))
            let bytes = (blk + 4).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo = bytes & 0x0F, hi = bytes &>> 4
            acc0 += (floats(lo.lowHalf) * d + m) * loadX(xb, 0)
            acc1 += (floats(lo.highHalf) * d + m) * loadX(xb, 8)
            acc0 += (floats(hi.lowHalf) * d + m) * loadX(xb, 16)
            acc1 += (floats(hi.highHalf) * d + m) * loadX(xb, 24)
    }
}

@inlinable
public func dotRowQ4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    chunkedBlockDot(FusedQ4_1.self, row, x, count: count)
}

/// The fifth bits of values `j ..< j + 8` of a Q5 block, as 0 or 16.
@inlinable @inline(__always)
func q5HighBits(_ qh: UInt32, _ j: UInt32) -> SIMD8<Int32> {
    let shifts = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7) &+ j
    return SIMD8<Int32>(truncatingIfNeeded: ((SIMD8<UInt32>(repeating: qh) &>> shifts) & 1) &<< 4)
}

@usableFromInline
enum FusedQ5_0: FusedBlock {
    @usableFromInline static var blockSize: Int { 32 }
    @usableFromInline static var typeSize: Int { 22 }
    @inlinable @inline(never)
    static func accumulate(_ blk: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ acc0: inout SIMD8<Float>, _ acc1: inout SIMD8<Float>) {
            let d = SIMD8<Float>(repeating: loadHalf(blk, 0))
            let qh = UInt32(littleEndian: blk.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let bytes = (blk + 6).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo = bytes & 0x0F, hi = bytes &>> 4
            acc0 += floats((ints(lo.lowHalf) | q5HighBits(qh, 0)) &- 16) * d * loadX(xb, 0)
            acc1 += floats((ints(lo.highHalf) | q5HighBits(qh, 8)) &- 16) * d * loadX(xb, 8)
            acc0 += floats((ints(hi.lowHalf) | q5HighBits(qh, 16)) &- 16) * d * loadX(xb, 16)
            acc1 += floats((ints(hi.highHalf) | q5HighBits(qh, 24)) &- 16) * d * loadX(xb, 24)
    }
}

@inlinable
public func dotRowQ5_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    chunkedBlockDot(FusedQ5_0.self, row, x, count: count)
}

@usableFromInline
enum FusedQ5_1: FusedBlock {
    @usableFromInline static var blockSize: Int { 32 }
    @usableFromInline static var typeSize: Int { 24 }
    @inlinable @inline(never)
    static func accumulate(_ blk: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ acc0: inout SIMD8<Float>, _ acc1: inout SIMD8<Float>) {
            let d = SIMD8<Float>(repeating: loadHalf(blk, 0))
            let m = SIMD8<Float>(repeating: loadHalf(blk, 2))
            let qh = UInt32(littleEndian: blk.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let bytes = (blk + 8).loadUnaligned(as: SIMD16<UInt8>.self)
            let lo = bytes & 0x0F, hi = bytes &>> 4
            acc0 += (floats(ints(lo.lowHalf) | q5HighBits(qh, 0)) * d + m) * loadX(xb, 0)
            acc1 += (floats(ints(lo.highHalf) | q5HighBits(qh, 8)) * d + m) * loadX(xb, 8)
            acc0 += (floats(ints(hi.lowHalf) | q5HighBits(qh, 16)) * d + m) * loadX(xb, 16)
            acc1 += (floats(ints(hi.highHalf) | q5HighBits(qh, 24)) * d + m) * loadX(xb, 24)
    }
}

@inlinable
public func dotRowQ5_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    chunkedBlockDot(FusedQ5_1.self, row, x, count: count)
}

@usableFromInline
enum FusedQ4_K: FusedBlock {
    @usableFromInline static var blockSize: Int { 256 }
    @usableFromInline static var typeSize: Int { 144 }
    @inlinable @inline(never)
    static func accumulate(_ blk: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ acc0: inout SIMD8<Float>, _ acc1: inout SIMD8<Float>) {
            let d = loadHalf(blk, 0)
            let dmin = loadHalf(blk, 2)
            let scales = blk + 4
            for j in 0..<4 {
                let (sc1, m1) = scaleMinK4(2 * j, scales)
                let (sc2, m2) = scaleMinK4(2 * j + 1, scales)
                let d1 = SIMD8<Float>(repeating: d * Float(sc1)), mm1 = SIMD8<Float>(repeating: dmin * Float(m1))
                let d2 = SIMD8<Float>(repeating: d * Float(sc2)), mm2 = SIMD8<Float>(repeating: dmin * Float(m2))
                let q = blk + 16 + 32 * j
                let x0 = 64 * j
                let b0 = q.loadUnaligned(as: SIMD16<UInt8>.self)
                let b1 = q.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
                acc0 += (d1 * floats((b0 & 0x0F).lowHalf) - mm1) * loadX(xb, x0)
                acc1 += (d1 * floats((b0 & 0x0F).highHalf) - mm1) * loadX(xb, x0 + 8)
                acc0 += (d1 * floats((b1 & 0x0F).lowHalf) - mm1) * loadX(xb, x0 + 16)
                acc1 += (d1 * floats((b1 & 0x0F).highHalf) - mm1) * loadX(xb, x0 + 24)
                acc0 += (d2 * floats((b0 &>> 4).lowHalf) - mm2) * loadX(xb, x0 + 32)
                acc1 += (d2 * floats((b0 &>> 4).highHalf) - mm2) * loadX(xb, x0 + 40)
                acc0 += (d2 * floats((b1 &>> 4).lowHalf) - mm2) * loadX(xb, x0 + 48)
                acc1 += (d2 * floats((b1 &>> 4).highHalf) - mm2) * loadX(xb, x0 + 56)
            }
    }
}

@inlinable
public func dotRowQ4_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    chunkedBlockDot(FusedQ4_K.self, row, x, count: count)
}

@usableFromInline
enum FusedQ6_K: FusedBlock {
    @usableFromInline static var blockSize: Int { 256 }
    @usableFromInline static var typeSize: Int { 210 }
    @inlinable @inline(never)
    static func accumulate(_ blk: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ acc0: inout SIMD8<Float>, _ acc1: inout SIMD8<Float>) {
            let d = loadHalf(blk, 208)
            for half in 0..<2 {
                let ql = blk + 64 * half
                let qh = blk + 128 + 32 * half
                let sc = blk + 192 + 8 * half
                let xh = 128 * half
                // Values l, l+32, l+64, l+96 share byte l of qh; scale index is l / 16.
                for part in 0..<4 {
                    // part 0: low nibbles of ql[l], part 1: low of ql[l+32], 2: high of ql[l], 3: high of ql[l+32]
                    let qlBase = ql + (part & 1) * 32
                    let shift = UInt8(2 * part)
                    for g in 0..<4 {
                        let l = 8 * g
                        let a = qlBase.loadUnaligned(fromByteOffset: l, as: SIMD8<UInt8>.self)
                        let h = qh.loadUnaligned(fromByteOffset: l, as: SIMD8<UInt8>.self)
                        let low = part < 2 ? a & 0x0F : a &>> 4
                        let q = SIMD8<Int32>(truncatingIfNeeded: low | (((h &>> shift) & 3) &<< 4)) &- 32
                        let s = d * Float(sc.load(fromByteOffset: l / 16 + 2 * part, as: Int8.self))
                        let v = SIMD8<Float>(repeating: s) * floats(q)
                        if g & 1 == 0 {
                            acc0 += v * loadX(xb, xh + 32 * part + l)
                        } else {
                            acc1 += v * loadX(xb, xh + 32 * part + l)
                        }
                    }
                }
            }
    }
}

@inlinable
public func dotRowQ6_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    chunkedBlockDot(FusedQ6_K.self, row, x, count: count)
}
