/// IEEE half → float (exact; every half is representable as a float).
@inlinable @inline(__always)
public func halfToFloat(_ bits: UInt16) -> Float {
    Float(Float16(bitPattern: bits))
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
