import Foundation
import Testing
import SeekFormats
import SeekKernels
import SeekTestSupport

private struct QuantCase: Decodable, CustomTestStringConvertible {
    let name: String
    let ggml_type: UInt32
    let rows: Int
    let cols: Int
    var testDescription: String { name }
}

private let quantCases: [QuantCase] = (try? Fixtures.json([QuantCase].self, "quant/manifest.json")) ?? []

@Suite struct DequantizeTests {
    @Test func manifestCoversEveryComputeType() {
        let names = Set(quantCases.map(\.name))
        for t in ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k"] {
            #expect(names.contains(t), "no fixture for \(t)")
        }
    }

    /// Fixtures: scripts/gen_quant_fixtures.py, expected values from gguf.quants.dequantize.
    @Test(arguments: quantCases)
    fileprivate func dequantizationIsBitExactWithTheGGUFPackage(_ c: QuantCase) throws {
        let type = try #require(GGMLType(rawValue: c.ggml_type))
        let raw = try Fixtures.data("quant/\(c.name).bin")
        let expected = try Fixtures.floats("quant/\(c.name).f32")
        let n = c.rows * c.cols
        #expect(raw.count == type.byteCount(elements: n))
        #expect(expected.count == n)
        var got = [Float](repeating: .nan, count: n)
        raw.withUnsafeBytes { src in
            got.withUnsafeMutableBufferPointer { dst in
                dequantizeRow(type, src.baseAddress!, dst.baseAddress!, count: n)
            }
        }
        var mismatches = 0
        for i in 0..<n where got[i] != expected[i] {  // == treats +0 and -0 as equal
            if mismatches < 5 { Issue.record("\(c.name)[\(i)]: got \(got[i]), expected \(expected[i])") }
            mismatches += 1
        }
        #expect(mismatches == 0)
    }

    /// The fused decode-and-dot (decode path) agrees with dequantize-then-dot in Double.
    @Test(arguments: quantCases)
    fileprivate func dotRowMatchesDequantizedReference(_ c: QuantCase) throws {
        let type = try #require(GGMLType(rawValue: c.ggml_type))
        let raw = try Fixtures.data("quant/\(c.name).bin")
        let values = try Fixtures.floats("quant/\(c.name).f32")
        var rng = SplitMix(seed: 7)
        let x = (0..<c.cols).map { _ in rng.nextFloat() * 2 - 1 }
        let rowBytes = try #require(type.byteCount(elements: c.cols))
        for r in 0..<c.rows {
            let row = values[(r * c.cols)..<((r + 1) * c.cols)]
            guard row.allSatisfy({ $0.isFinite && abs($0) < 1e30 }) else { continue }  // f32/f16 fixtures hold ±max
            let reference = zip(row, x).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let magnitude = zip(row, x).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
            let got = raw.withUnsafeBytes { src in
                x.withUnsafeBufferPointer { xp in
                    dotRow(type, src.baseAddress! + r * rowBytes, xp.baseAddress!, count: c.cols)
                }
            }
            #expect(abs(Double(got) - reference) <= 1e-5 * magnitude + 1e-6, "\(c.name) row \(r): \(got) vs \(reference)")
        }
    }

    /// Each fused decode-and-dot kernel gives bit-for-bit what decoding then `dotF32` gives
    /// (its scalar reference), on fixture rows and on row lengths that end in a partial chunk.
    @Test(arguments: quantCases)
    fileprivate func fusedDotIsBitIdenticalToDecodeThenDot(_ c: QuantCase) throws {
        let type = try #require(GGMLType(rawValue: c.ggml_type))
        let raw = try Fixtures.data("quant/\(c.name).bin")
        var rng = SplitMix(seed: 11)
        let x = (0..<(c.rows * c.cols)).map { _ in rng.nextFloat() * 2 - 1 }
        for count in Set([c.cols, c.cols * 2, type.blockSize * 3, c.cols * c.rows]) where count <= c.rows * c.cols && count % type.blockSize == 0 {
            raw.withUnsafeBytes { src in
                x.withUnsafeBufferPointer { xp in
                    let fused = dotRow(type, src.baseAddress!, xp.baseAddress!, count: count)
                    let decoded = dotRowDecoded(type, src.baseAddress!, xp.baseAddress!, count: count)
                    let values = UnsafeMutablePointer<Float>.allocate(capacity: count)
                    defer { values.deallocate() }
                    dequantizeRow(type, src.baseAddress!, values, count: count)
                    let prefill = dotChunked(values, xp.baseAddress!, count)
                    if type == .f32 || (type == .f16 && KernelSettings.hasAVX2) {
                        // Not a fused Swift kernel here but the AVX2 float dot, whose sums are
                        // ordered differently: close, not identical (matmul uses it for every
                        // token, so decode and prefill still agree; MatmulTests checks that).
                        let scale = max(1, abs(decoded))
                        #expect(abs(fused - decoded) <= 1e-5 * scale || (fused.isNaN && decoded.isNaN) || abs(decoded) > 1e30, "\(c.name) count \(count): \(fused) vs \(decoded)")
                    } else {
                        #expect(fused.bitPattern == decoded.bitPattern || (fused.isNaN && decoded.isNaN), "\(c.name) count \(count): \(fused) vs \(decoded)")
                        #expect(fused.bitPattern == prefill.bitPattern || (fused.isNaN && prefill.isNaN), "\(c.name) count \(count): \(fused) vs \(prefill)")
                    }
                }
            }
        }
    }
}

/// A seeded generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
