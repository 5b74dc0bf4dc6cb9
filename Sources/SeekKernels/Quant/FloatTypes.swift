/// IEEE half → float (exact; every half is representable as a float).
///
/// Done with integer bit moves: `Float(Float16)` compiles to a call into the runtime's
/// `__extendhfsf2` on baseline x86-64, which profiled at 41% of decode time.
@inlinable @inline(__always)
public func halfToFloat(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x03FF)
    if exponent == 0x1F {  // infinity or NaN (payload kept)
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    if exponent != 0 {  // normal: rebias 15 → 127
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
    // zero or subnormal: mantissa × 2^-24, exact in a float
    let magnitude = Float(mantissa) * (1 / 16_777_216 as Float)
    return sign != 0 ? -magnitude : magnitude
}

/// bfloat16 → float: the upper 16 bits of a float.
@inlinable @inline(__always)
public func bf16ToFloat(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

@inlinable @inline(__always)
func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    halfToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
}

/// F32 block (1 value).
@inlinable
public func dequantizeBlockF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    dst[0] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(as: UInt32.self)))
}

/// F16 block (1 value).
@inlinable
public func dequantizeBlockF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    dst[0] = loadHalf(src, 0)
}

/// BF16 block (1 value).
@inlinable
public func dequantizeBlockBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    dst[0] = bf16ToFloat(UInt16(littleEndian: src.loadUnaligned(as: UInt16.self)))
}
