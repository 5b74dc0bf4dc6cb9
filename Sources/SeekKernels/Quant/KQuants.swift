// The 256-value "K" super-block formats. Byte layouts:
//   Q2_K: scales[16] | qs[64] | d f16 | dmin f16             (84)
//   Q3_K: hmask[32] | qs[64] | scales[12] | d f16             (110)
//   Q4_K: d f16 | dmin f16 | scales[12] | qs[128]             (144)
//   Q5_K: d f16 | dmin f16 | scales[12] | qh[32] | qs[128]    (176)
//   Q6_K: ql[128] | qh[64] | scales[16] int8 | d f16          (210)
// Sub-block scales are multiplied into d first (d * sc), then applied to the quant,
// which is the arithmetic order of the reference dequantizer; results are bit-exact.

@inlinable
public func dequantizeBlockQ2_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    let scales = src
    let d = loadHalf(src, 80)
    let dmin = loadHalf(src, 82)
    var out = dst
    var isc = 0
    for n in 0..<2 {
        let q = src + 16 + 32 * n
        var shift: UInt8 = 0
        for _ in 0..<4 {
            for half in 0..<2 {
                let sc = scales.load(fromByteOffset: isc, as: UInt8.self)
                isc += 1
                let dl = d * Float(sc & 0x0F)
                let ml = dmin * Float(sc >> 4)
                for l in 0..<16 {
                    let v = (q.load(fromByteOffset: l + 16 * half, as: UInt8.self) >> shift) & 3
                    out[l] = dl * Float(v) - ml
                }
                out += 16
            }
            shift += 2
        }
    }
}

/// Scale `i` (0..<16) of Q3_K's twelve bytes of packed 6-bit scales: the low four bits
/// are nibbles of bytes 0..<8, the high two bits come from bytes 8..<12.
@inlinable @inline(__always)
func q3KScale(_ i: Int, _ s: UnsafeRawPointer) -> Int32 {
    let low = i < 8 ? s.load(fromByteOffset: i, as: UInt8.self) & 0x0F : s.load(fromByteOffset: i - 8, as: UInt8.self) >> 4
    let high = (s.load(fromByteOffset: 8 + i % 4, as: UInt8.self) >> UInt8(2 * (i / 4))) & 3
    return Int32(low | (high << 4)) - 32
}

@inlinable
public func dequantizeBlockQ3_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    let hm = src
    let d = loadHalf(src, 108)
    let scales = src + 96
    var out = dst
    var isc = 0
    var m: UInt8 = 1
    for n in 0..<2 {
        let q = src + 32 + 32 * n
        var shift: UInt8 = 0
        for _ in 0..<4 {
            for half in 0..<2 {
                let dl = d * Float(q3KScale(isc, scales))
                isc += 1
                for l in 0..<16 {
                    let i = l + 16 * half
                    let low = Int32((q.load(fromByteOffset: i, as: UInt8.self) >> shift) & 3)
                    let high: Int32 = (hm.load(fromByteOffset: i, as: UInt8.self) & m) != 0 ? 0 : 4
                    out[l] = dl * Float(low - high)
                }
                out += 16
            }
            shift += 2
            m <<= 1
        }
    }
}

/// The 6-bit (scale, min) pair `j` of Q4_K/Q5_K's packed twelve bytes.
@inlinable @inline(__always)
func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (UInt8, UInt8) {
    func b(_ i: Int) -> UInt8 { q.load(fromByteOffset: i, as: UInt8.self) }
    if j < 4 {
        return (b(j) & 63, b(j + 4) & 63)
    }
    return ((b(j + 4) & 0x0F) | ((b(j - 4) >> 6) << 4), (b(j + 4) >> 4) | ((b(j) >> 6) << 4))
}

@inlinable
public func dequantizeBlockQ4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    let d = loadHalf(src, 0)
    let dmin = loadHalf(src, 2)
    let scales = src + 4
    var q = src + 16
    var out = dst
    var isc = 0
    for _ in 0..<4 {
        let (sc1, m1) = scaleMinK4(isc, scales)
        let (sc2, m2) = scaleMinK4(isc + 1, scales)
        let d1 = d * Float(sc1), mm1 = dmin * Float(m1)
        let d2 = d * Float(sc2), mm2 = dmin * Float(m2)
        for l in 0..<32 {
            out[l] = d1 * Float(q.load(fromByteOffset: l, as: UInt8.self) & 0x0F) - mm1
        }
        for l in 0..<32 {
            out[l + 32] = d2 * Float(q.load(fromByteOffset: l, as: UInt8.self) >> 4) - mm2
        }
        out += 64
        q += 32
        isc += 2
    }
}

@inlinable
public func dequantizeBlockQ5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    let d = loadHalf(src, 0)
    let dmin = loadHalf(src, 2)
    let scales = src + 4
    let qh = src + 16
    var ql = src + 48
    var out = dst
    var isc = 0
    var u1: UInt8 = 1, u2: UInt8 = 2
    for _ in 0..<4 {
        let (sc1, m1) = scaleMinK4(isc, scales)
        let (sc2, m2) = scaleMinK4(isc + 1, scales)
        let d1 = d * Float(sc1), mm1 = dmin * Float(m1)
        let d2 = d * Float(sc2), mm2 = dmin * Float(m2)
        for l in 0..<32 {
            let h = qh.load(fromByteOffset: l, as: UInt8.self)
            let lo = ql.load(fromByteOffset: l, as: UInt8.self)
            out[l] = d1 * Float(Int32(lo & 0x0F) + ((h & u1) != 0 ? 16 : 0)) - mm1
        }
        for l in 0..<32 {
            let h = qh.load(fromByteOffset: l, as: UInt8.self)
            let lo = ql.load(fromByteOffset: l, as: UInt8.self)
            out[l + 32] = d2 * Float(Int32(lo >> 4) + ((h & u2) != 0 ? 16 : 0)) - mm2
        }
        out += 64
        ql += 32
        isc += 2
        u1 <<= 2
        u2 <<= 2
    }
}

@inlinable
public func dequantizeBlockQ6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    let d = loadHalf(src, 208)
    var ql = src
    var qh = src + 128
    var sc = src + 192
    var out = dst
    for _ in 0..<2 {
        for l in 0..<32 {
            let isc = l / 16
            let a = ql.load(fromByteOffset: l, as: UInt8.self)
            let b = ql.load(fromByteOffset: l + 32, as: UInt8.self)
            let h = qh.load(fromByteOffset: l, as: UInt8.self)
            let q1 = Int32((a & 0x0F) | (((h >> 0) & 3) << 4)) - 32
            let q2 = Int32((b & 0x0F) | (((h >> 2) & 3) << 4)) - 32
            let q3 = Int32((a >> 4) | (((h >> 4) & 3) << 4)) - 32
            let q4 = Int32((b >> 4) | (((h >> 6) & 3) << 4)) - 32
            out[l] = d * Float(sc.load(fromByteOffset: isc, as: Int8.self)) * Float(q1)
            out[l + 32] = d * Float(sc.load(fromByteOffset: isc + 2, as: Int8.self)) * Float(q2)
            out[l + 64] = d * Float(sc.load(fromByteOffset: isc + 4, as: Int8.self)) * Float(q3)
            out[l + 96] = d * Float(sc.load(fromByteOffset: isc + 6, as: Int8.self)) * Float(q4)
        }
        out += 128
        ql += 64
        qh += 32
        sc += 8
    }
}
