// The 32-value block formats. Layouts (bytes):
//   Q4_0: d f16 | qs[16]            value = (nibble - 8) * d
//   Q4_1: d f16 | m f16 | qs[16]    value = nibble * d + m
//   Q5_0: d f16 | qh u32 | qs[16]   value = ((nibble | high bit << 4) - 16) * d
//   Q5_1: d f16 | m f16 | qh u32 | qs[16]   value = (nibble | high bit << 4) * d + m
//   Q8_0: d f16 | qs[32] int8       value = q * d
// Low nibbles of qs[j] are values j, high nibbles values j + 16; bit j of qh is the fifth
// bit of value j. The arithmetic order (d * q, then + m) matches the reference dequantizer.

@inlinable
public func dequantizeBlockQ4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    let d = loadHalf(src, 0)
    let qs = src + 2
    for j in 0..<16 {
        let b = qs.load(fromByteOffset: j, as: UInt8.self)
        dst[j] = Float(Int32(b & 0x0F) - 8) * d
        dst[j + 16] = Float(Int32(b >> 4) - 8) * d
    }
}

@inlinable
public func dequantizeBlockQ4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    let d = loadHalf(src, 0)
    let m = loadHalf(src, 2)
    let qs = src + 4
    for j in 0..<16 {
        let b = qs.load(fromByteOffset: j, as: UInt8.self)
        dst[j] = Float(b & 0x0F) * d + m
        dst[j + 16] = Float(b >> 4) * d + m
    }
}

@inlinable
public func dequantizeBlockQ5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    let d = loadHalf(src, 0)
    let qh = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
    let qs = src + 6
    for j in 0..<16 {
        let b = qs.load(fromByteOffset: j, as: UInt8.self)
        let h0 = Int32((qh >> UInt32(j)) & 1) << 4
        let h1 = Int32((qh >> UInt32(j + 16)) & 1) << 4
        dst[j] = Float((Int32(b & 0x0F) | h0) - 16) * d
        dst[j + 16] = Float((Int32(b >> 4) | h1) - 16) * d
    }
}

@inlinable
public func dequantizeBlockQ5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    let d = loadHalf(src, 0)
    let m = loadHalf(src, 2)
    let qh = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    let qs = src + 8
    for j in 0..<16 {
        let b = qs.load(fromByteOffset: j, as: UInt8.self)
        let h0 = Int32((qh >> UInt32(j)) & 1) << 4
        let h1 = Int32((qh >> UInt32(j + 16)) & 1) << 4
        dst[j] = Float(Int32(b & 0x0F) | h0) * d + m
        dst[j + 16] = Float(Int32(b >> 4) | h1) * d + m
    }
}

@inlinable
public func dequantizeBlockQ8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>) {
    let d = loadHalf(src, 0)
    let qs = src + 2
    for j in 0..<32 {
        dst[j] = Float(qs.load(fromByteOffset: j, as: Int8.self)) * d
    }
}
