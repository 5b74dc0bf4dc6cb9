import Foundation
import Testing
import SeekFormats
import SeekKernels
import SeekTestSupport

/// The AVX2 integer kernels (CSeekSIMD) against their scalar reference: the weight row decoded
/// by the bit-exact dequantizer times the dequantized 16-bit (or 8-bit) activations, summed in
/// Double.
@Suite struct IntegerDotTests {
    static let types: [(String, GGMLType)] = [("q8_0", .q8_0), ("q4_0", .q4_0), ("q4_1", .q4_1), ("q5_0", .q5_0),
                                             ("q5_1", .q5_1), ("q4_k", .q4_K), ("q6_k", .q6_K)]

    /// Activations of mixed scale: ordinary values, a block of zeros, a block with one outlier.
    static func activations(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix(seed: seed)
        var x = (0..<count).map { _ in (rng.nextFloat() * 2 - 1) * 3 }
        if count >= 64 { for i in 32..<64 { x[i] = 0 } }
        if count >= 96 { x[70] = 250 }
        return x
    }

    @Test(arguments: types.map(\.0), [16, 8])
    func simdKernelMatchesScalarReference(_ name: String, bits: Int) throws {
        let type = try #require(Self.types.first { $0.0 == name }?.1)
        try #require(KernelSettings.hasAVX2, "this machine has no AVX2: the integer kernels are not used here")
        let raw = try Fixtures.data("quant/\(name).bin")
        let total = 4 * 512
        // Whole fixture rows, the whole blob as one long row, and short rows (odd block counts
        // exercise the kernels' tails).
        var lengths = [512, total, type.blockSize]
        if type.blockSize == 32 { lengths += [96, 160] } else { lengths += [768] }
        for count in lengths where count <= total {
            let x = Self.activations(count, seed: UInt64(count))
            let act = QuantizedActivations(rows: 1, cols: count, bits: bits)
            x.withUnsafeBufferPointer { act.quantize($0.baseAddress!) }
            let xq = act.dequantized(row: 0)
            try raw.withUnsafeBytes { src in
                let w = src.baseAddress!
                let got = try #require(act.simdDot(type, w, row: 0))
                let reference = act.referenceDot(type, w, row: 0)
                var values = [Float](repeating: 0, count: count)
                values.withUnsafeMutableBufferPointer { dequantizeRow(type, w, $0.baseAddress!, count: count) }
                let magnitude = zip(values, xq).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
                #expect(abs(Double(got) - reference) <= 2e-6 * magnitude + 1e-6, "\(name) × \(count), \(bits) bits: \(got) vs \(reference)")
            }
        }
    }

    /// The kernel meeting 2 to 8 activation rows at once gives each row bit for bit what it
    /// gives that row alone: whole groups of eight blocks (512 columns) and, for the 32-value
    /// formats, a partial group and a partial eight of offsets after them (576 columns).
    @Test(arguments: types.map(\.0), [16, 8])
    func severalRowsAtOnceEqualOneAtATime(_ name: String, bits: Int) throws {
        let type = try #require(Self.types.first { $0.0 == name }?.1)
        try #require(KernelSettings.hasAVX2, "this machine has no AVX2: the integer kernels are not used here")
        let raw = try Fixtures.data("quant/\(name).bin")
        for cols in type.blockSize == 32 ? [512, 576] : [512] {
            let x = Self.activations(9 * cols, seed: 17)
            let act = QuantizedActivations(rows: 9, cols: cols, bits: bits)
            x.withUnsafeBufferPointer { act.quantize($0.baseAddress!) }
            try raw.withUnsafeBytes { src in
                let w = src.baseAddress!
                let single = try (0..<9).map { try #require(act.simdDot(type, w, row: $0)) }
                for count in 2...8 {
                    for first in 0...(9 - count) {
                        let many = try #require(act.simdDot(type, w, rows: first, count: count))
                        #expect(many.map(\.bitPattern) == single[first..<(first + count)].map(\.bitPattern),
                                "\(name) × \(cols) rows \(first)..<\(first + count), \(bits) bits")
                    }
                }
            }
        }
    }

    @Test(arguments: [16, 8])
    func quantizedActivationsRoundTrip(bits: Int) {
        let x = Self.activations(256, seed: 5) + [Float](repeating: 0, count: 32)
        let act = QuantizedActivations(rows: 1, cols: x.count, bits: bits)
        x.withUnsafeBufferPointer { act.quantize($0.baseAddress!) }
        let back = act.dequantized(row: 0)
        for b in 0..<(x.count / 32) {
            let block = x[(32 * b)..<(32 * b + 32)]
            let step = block.map { abs($0) }.max()! / (bits == 8 ? 127 : 32767)
            for i in (32 * b)..<(32 * b + 32) {
                #expect(abs(back[i] - x[i]) <= step / 2 * 1.0001 + 1e-12, "value \(i): \(x[i]) → \(back[i])")
            }
        }
        #expect(back.suffix(32).allSatisfy { $0 == 0 })
    }

    /// The AVX2 quantizer gives bit for bit what the Swift reference gives.
    @Test(arguments: [16, 8])
    func simdQuantizerMatchesReference(bits: Int) throws {
        try #require(KernelSettings.hasAVX2, "this machine has no AVX2: the SIMD quantizer is not used here")
        let x = Self.activations(1024, seed: 21) + [Float](repeating: 0, count: 32) + [-1e-30, 3e-38] + (0..<30).map { Float($0) - 14.5 }
        let fast = QuantizedActivations(rows: 1, cols: x.count, bits: bits), slow = QuantizedActivations(rows: 1, cols: x.count, bits: bits)
        x.withUnsafeBufferPointer {
            fast.quantize($0.baseAddress!)
            slow.quantize($0.baseAddress!, reference: true)
        }
        let a = fast.blocks(row: 0), b = slow.blocks(row: 0)
        #expect(a.q == b.q)
        #expect(a.d.map(\.bitPattern) == b.d.map(\.bitPattern))
        #expect(a.s == b.s)
    }

    /// A matrix whose activations are quantized gives, through `matmul`, what the scalar
    /// reference gives for every (row, token) — and the same row whether one token or many.
    @Test(arguments: ["q4_1", "q6_k", "q8_0"])
    func matmulUsesTheKernelPerRowAndToken(_ name: String) throws {
        let type = try #require(Self.types.first { $0.0 == name }?.1)
        try #require(KernelSettings.usesQuantizedActivations(type) || !KernelSettings.hasAVX2)
        guard KernelSettings.usesQuantizedActivations(type) else { return }
        let raw = try Fixtures.data("quant/\(name).bin")
        let tokens = 37, rows = 4, cols = 512
        let x = Self.activations(tokens * cols, seed: 9)
        let act = QuantizedActivations(rows: tokens, cols: cols)
        x.withUnsafeBufferPointer { act.quantize($0.baseAddress!) }
        var out = [Float](repeating: 0, count: tokens * rows)
        try raw.withUnsafeBytes { src in
            let m = WeightMatrix(name: name, type: type, rows: rows, cols: cols, data: src.baseAddress!)
            x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { matmul(m, xp.baseAddress!, tokens: tokens, $0.baseAddress!, pool: ThreadPool(threads: 2)) }
            }
            for t in 0..<tokens {
                for r in 0..<rows {
                    let simd = try #require(act.simdDot(type, m.row(r), row: t))
                    #expect(out[t * rows + r].bitPattern == simd.bitPattern, "\(name) t \(t) r \(r)")
                    let reference = act.referenceDot(type, m.row(r), row: t)
                    var values = [Float](repeating: 0, count: cols)
                    values.withUnsafeMutableBufferPointer { dequantizeRow(type, m.row(r), $0.baseAddress!, count: cols) }
                    let xq = act.dequantized(row: t)
                    let magnitude = zip(values, xq).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
                    #expect(abs(Double(simd) - reference) <= 2e-6 * magnitude + 1e-6, "\(name) t \(t) r \(r)")
                }
            }
        }
    }
}
