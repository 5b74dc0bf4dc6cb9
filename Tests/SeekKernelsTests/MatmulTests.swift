import Foundation
import Testing
import SeekFormats
import SeekKernels
import SeekTestSupport

@Suite struct MatmulTests {
    /// matmul on all threads equals a naive double-precision product, for one token (decode
    /// path) and several (prefill path), on a quantized fixture matrix. Where the weights
    /// multiply 16-bit activations, the product is of the activations as quantized.
    @Test(arguments: [1, 3, 8], ["q4_1", "q6_k", "f16"])
    func matmulMatchesNaiveProduct(tokens: Int, name: String) throws {
        let types: [String: GGMLType] = ["q4_1": .q4_1, "q6_k": .q6_K, "f16": .f16]
        let type = try #require(types[name])
        let raw = try Fixtures.data("quant/\(name).bin")
        let w = try Fixtures.floats("quant/\(name).f32")
        let rows = 4, cols = 512
        var rng = SplitMix(seed: UInt64(tokens))
        let x = (0..<(tokens * cols)).map { _ in rng.nextFloat() - 0.5 }
        var xRef = x
        if KernelSettings.usesQuantizedActivations(type) {
            let act = QuantizedActivations(rows: tokens, cols: cols)
            x.withUnsafeBufferPointer { act.quantize($0.baseAddress!) }
            xRef = (0..<tokens).flatMap { act.dequantized(row: $0) }
        }
        var out = [Float](repeating: 0, count: tokens * rows)
        raw.withUnsafeBytes { src in
            let m = WeightMatrix(name: name, type: type, rows: rows, cols: cols, data: src.baseAddress!)
            x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { op in
                    matmul(m, xp.baseAddress!, tokens: tokens, op.baseAddress!, pool: ThreadPool(threads: 2))
                }
            }
        }
        for t in 0..<tokens {
            for r in 0..<rows {
                var ref = 0.0, mag = 0.0
                for k in 0..<cols {
                    let p = Double(w[r * cols + k]) * Double(xRef[t * cols + k])
                    ref += p
                    mag += abs(p)
                }
                #expect(abs(Double(out[t * rows + r]) - ref) <= 1e-5 * mag + 1e-6, "t \(t) r \(r)")
            }
        }
    }

    /// Decode (one token), batched decode (two to eight: folded rows, then the met path) and
    /// prefill (more: tiles of 32 tokens) give bit-identical rows: the property that makes a
    /// cached decode equal a full recompute.
    @Test(arguments: ["q4_k", "q4_1", "q8_0", "f16", "f32", "q5_k"])
    func decodeAndPrefillPathsAreBitIdentical(_ name: String) throws {
        let types: [String: GGMLType] = ["q4_k": .q4_K, "q4_1": .q4_1, "q8_0": .q8_0, "f16": .f16, "f32": .f32, "q5_k": .q5_K]
        let type = try #require(types[name])
        let raw = try Fixtures.data("quant/\(name).bin")
        var rng = SplitMix(seed: 3)
        let x = (0..<(40 * 512)).map { _ in rng.nextFloat() - 0.5 }
        raw.withUnsafeBytes { src in
            let m = WeightMatrix(name: "w", type: type, rows: 4, cols: 512, data: src.baseAddress!)
            x.withUnsafeBufferPointer { xp in
                var alone = [Float](repeating: 0, count: 40 * 4)
                for t in 0..<40 {
                    alone.withUnsafeMutableBufferPointer { matmul(m, xp.baseAddress! + t * 512, tokens: 1, $0.baseAddress! + t * 4, pool: ThreadPool(threads: 1)) }
                }
                for tokens in [2, 3, 5, 8, 12, 40] {
                    var batched = [Float](repeating: .nan, count: tokens * 4)
                    batched.withUnsafeMutableBufferPointer { matmul(m, xp.baseAddress!, tokens: tokens, $0.baseAddress!, pool: ThreadPool(threads: 2)) }
                    #expect(alone[0..<(tokens * 4)].map(\.bitPattern) == batched.map(\.bitPattern), "\(name), \(tokens) tokens")
                }
            }
        }
    }

    /// Several matrices in one dispatch (q/k/v, gate/up) give bit for bit what separate calls give
    /// (at 37 tokens the inputs' groups of eight rows are quantized across the pool).
    @Test(arguments: [1, 6, 37])
    func groupedMatmulEqualsSeparateCalls(tokens: Int) throws {
        let names = ["q4_1", "q8_0", "q6_k", "f16"]
        let types: [String: GGMLType] = ["q4_1": .q4_1, "q8_0": .q8_0, "q6_k": .q6_K, "f16": .f16]
        let blobs = try names.map { try Fixtures.data("quant/\($0).bin") }
        var rng = SplitMix(seed: 5)
        let x = (0..<(tokens * 512)).map { _ in rng.nextFloat() - 0.5 }
        // Quantized only (one dispatch), and with an F16 matrix among them (separate calls).
        for group in [Array(names.prefix(3)), names] {
            var separate = [[Float]](repeating: [Float](repeating: 0, count: tokens * 4), count: group.count)
            var grouped = separate
            let copies = group.map { name in
                let blob = blobs[names.firstIndex(of: name)!]
                let p = UnsafeMutableRawPointer.allocate(byteCount: blob.count, alignment: 64)
                blob.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: blob.count) }
                return p
            }
            defer { copies.forEach { $0.deallocate() } }
            let ws = zip(group, copies).map { WeightMatrix(name: $0.0, type: types[$0.0]!, rows: 4, cols: 512, data: UnsafeRawPointer($0.1)) }
            x.withUnsafeBufferPointer { xp in
                for i in 0..<ws.count {
                    separate[i].withUnsafeMutableBufferPointer { matmul(ws[i], xp.baseAddress!, tokens: tokens, $0.baseAddress!, pool: ThreadPool(threads: 2)) }
                }
                let outs = (0..<ws.count).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: tokens * 4) }
                defer { outs.forEach { $0.deallocate() } }
                matmul(ws, xp.baseAddress!, tokens: tokens, outs, pool: ThreadPool(threads: 2))
                for i in 0..<ws.count { grouped[i] = Array(UnsafeBufferPointer(start: outs[i], count: tokens * 4)) }
            }
            for i in 0..<group.count {
                #expect(grouped[i].map(\.bitPattern) == separate[i].map(\.bitPattern), "\(group[i]) in \(group)")
            }
            // Different inputs and token counts in one group (as the MoE experts are run).
            let y = (0..<(3 * 512)).map { _ in rng.nextFloat() - 0.5 }
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    let a = UnsafeMutablePointer<Float>.allocate(capacity: tokens * 4), b = UnsafeMutablePointer<Float>.allocate(capacity: 3 * 4)
                    let a1 = UnsafeMutablePointer<Float>.allocate(capacity: tokens * 4), b1 = UnsafeMutablePointer<Float>.allocate(capacity: 3 * 4)
                    defer { [a, b, a1, b1].forEach { $0.deallocate() } }
                    matmul([MatmulJob(ws[0], xp.baseAddress!, tokens: tokens, a), MatmulJob(ws[1], yp.baseAddress!, tokens: 3, b)], pool: ThreadPool(threads: 2))
                    matmul(ws[0], xp.baseAddress!, tokens: tokens, a1, pool: ThreadPool(threads: 1))
                    matmul(ws[1], yp.baseAddress!, tokens: 3, b1, pool: ThreadPool(threads: 1))
                    #expect((0..<(tokens * 4)).allSatisfy { a[$0].bitPattern == a1[$0].bitPattern })
                    #expect((0..<12).allSatisfy { b[$0].bitPattern == b1[$0].bitPattern })
                }
            }
        }
    }

    /// The AVX2 attention of one head agrees with the reference (dot, softmax, weighted sum),
    /// for head sizes 64 and 128 (more than one block of eight registers) and strided rows.
    @Test(arguments: [(64, 1), (64, 300), (128, 77), (24, 5)])
    func attendHeadMatchesReference(headSize hd: Int, count n: Int) {
        let stride = hd * 3 + 8
        var rng = SplitMix(seed: UInt64(hd * 1000 + n))
        let q = (0..<hd).map { _ in rng.nextFloat() * 2 - 1 }
        let keys = (0..<(n * stride)).map { _ in rng.nextFloat() * 2 - 1 }
        let values = (0..<(n * stride)).map { _ in rng.nextFloat() * 2 - 1 }
        var fast = [Float](repeating: .nan, count: hd), slow = fast
        var s1 = [Float](repeating: 0, count: n), s2 = s1
        attendHead(q, keys: keys, values: values, stride: stride, count: n, headSize: hd, scale: 0.125, scores: &s1, out: &fast)
        attendHeadReference(q, keys: keys, values: values, stride: stride, count: n, headSize: hd, scale: 0.125, scores: &s2, out: &slow)
        for i in 0..<hd { #expect(abs(fast[i] - slow[i]) <= 1e-5, "\(i): \(fast[i]) vs \(slow[i])") }
        for p in 0..<n { #expect(abs(s1[p] - s2[p]) <= 1e-6) }
    }

    /// The same over an f16 cache: the F16C kernel agrees with the reference that widens each
    /// row first, and float → f16 rounds to nearest even like Swift's Float16 (ties, signs,
    /// subnormals, overflow to infinity).
    @Test(arguments: [(64, 1), (64, 300), (128, 77), (24, 5)])
    func attendHeadHalfMatchesReference(headSize hd: Int, count n: Int) {
        let stride = hd * 3 + 8
        var rng = SplitMix(seed: UInt64(hd * 1000 + n + 7))
        let q = (0..<hd).map { _ in rng.nextFloat() * 2 - 1 }
        let keysF = (0..<(n * stride)).map { _ in rng.nextFloat() * 2 - 1 }
        let valuesF = (0..<(n * stride)).map { _ in rng.nextFloat() * 2 - 1 }
        var keys = [UInt16](repeating: 0, count: keysF.count), values = keys
        floatToHalf(keysF, &keys, count: keysF.count)
        floatToHalf(valuesF, &values, count: valuesF.count)
        for i in 0..<keysF.count { #expect(keys[i] == Float16(keysF[i]).bitPattern) }
        var fast = [Float](repeating: .nan, count: hd), slow = fast
        var s1 = [Float](repeating: 0, count: n), s2 = s1
        attendHeadHalf(q, keys: keys, values: values, stride: stride, count: n, headSize: hd, scale: 0.125, scores: &s1, out: &fast)
        attendHeadHalfReference(q, keys: keys, values: values, stride: stride, count: n, headSize: hd, scale: 0.125,
                                scores: &s2, out: &slow)
        for i in 0..<hd { #expect(abs(fast[i] - slow[i]) <= 1e-5, "\(i): \(fast[i]) vs \(slow[i])") }
        for p in 0..<n { #expect(abs(s1[p] - s2[p]) <= 1e-6) }
    }

    /// Several queries over the same rows (MLA's heads over the shared latent) give what each
    /// query gets alone from the reference, for 1-6 queries (blocks of four and a remainder),
    /// one or many rows (odd counts: the kernel takes two rows at a time) and a value size
    /// that is not a multiple of sixteen.
    @Test(arguments: [(1, 1), (3, 2), (4, 7), (5, 300), (6, 33)])
    func attendSharedMatchesReferencePerQuery(queries nq: Int, count n: Int) {
        let hd = 72, vd = 56, stride = 80, queryStride = 75, outStride = 61
        var rng = SplitMix(seed: UInt64(nq * 1000 + n))
        let q = (0..<(nq * queryStride)).map { _ in rng.nextFloat() * 2 - 1 }
        let rows = (0..<(n * stride)).map { _ in rng.nextFloat() * 2 - 1 }
        var out = [Float](repeating: .nan, count: nq * outStride), scores = [Float](repeating: 0, count: nq * n)
        attendShared(q, queryStride: queryStride, queries: nq, keys: rows, values: rows, stride: stride, count: n, headSize: hd,
                     valueSize: vd, scale: 0.1, scores: &scores, out: &out, outStride: outStride)
        for i in 0..<nq {
            var one = [Float](repeating: 0, count: vd), s = [Float](repeating: 0, count: n)
            q.withUnsafeBufferPointer { qp in
                attendHeadReference(qp.baseAddress! + i * queryStride, keys: rows, values: rows, stride: stride, count: n, headSize: hd,
                                    valueSize: vd, scale: 0.1, scores: &s, out: &one)
            }
            for j in 0..<vd { #expect(abs(out[i * outStride + j] - one[j]) <= 1e-5, "query \(i) value \(j)") }
        }
    }

    /// The same over f16 rows (grouped-query attention over an f16 cache): separate key and
    /// value rows, as the decoder's cache keeps them, against the f16 reference per query.
    @Test(arguments: [(1, 1), (3, 2), (4, 7), (7, 300), (6, 33)])
    func attendSharedHalfMatchesReferencePerQuery(queries nq: Int, count n: Int) {
        let hd = 64, vd = 64, stride = 136, queryStride = 64, outStride = 64
        var rng = SplitMix(seed: UInt64(nq * 1000 + n + 7))
        let q = (0..<(nq * queryStride)).map { _ in rng.nextFloat() * 2 - 1 }
        let keys = (0..<(n * stride)).map { _ in Float16(rng.nextFloat() * 2 - 1).bitPattern }
        let values = (0..<(n * stride)).map { _ in Float16(rng.nextFloat() * 2 - 1).bitPattern }
        var out = [Float](repeating: .nan, count: nq * outStride), scores = [Float](repeating: 0, count: nq * n)
        attendSharedHalf(q, queryStride: queryStride, queries: nq, keys: keys, values: values, stride: stride, count: n, headSize: hd,
                         valueSize: vd, scale: 0.125, scores: &scores, out: &out, outStride: outStride)
        for i in 0..<nq {
            var one = [Float](repeating: 0, count: vd), s = [Float](repeating: 0, count: n)
            q.withUnsafeBufferPointer { qp in
                attendHeadHalfReference(qp.baseAddress! + i * queryStride, keys: keys, values: values, stride: stride, count: n,
                                        headSize: hd, valueSize: vd, scale: 0.125, scores: &s, out: &one)
            }
            for j in 0..<vd { #expect(abs(out[i * outStride + j] - one[j]) <= 1e-5, "query \(i) value \(j)") }
        }
    }

    @Test func floatToHalfRoundsLikeFloat16() {
        let edge: [Float] = [0, -0.0, 1, -1, 65504, 65520, 1e6, -1e6, 6.1e-5, 5.96e-8, 2.98e-8, 1e-9, 1.0009765625, 1.00048828125,
                             2049, 2051, .infinity, -.infinity, 3.14159, -2.71828]
        var out = [UInt16](repeating: 0, count: edge.count)
        floatToHalf(edge, &out, count: edge.count)
        for (x, h) in zip(edge, out) { #expect(h == Float16(x).bitPattern, "\(x)") }
    }

    @Test func parallelForCoversEveryIndexOnce() {
        for threads in [1, 2, 3, 7] {
            for n in [0, 1, 5, 64, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(n, 1))
                hits.initialize(repeating: 0, count: max(n, 1))
                ThreadPool(threads: threads).parallelFor(n, minChunk: 3) { r in
                    for i in r { hits[i] += 1 }
                }
                #expect((0..<n).allSatisfy { hits[$0] == 1 }, "threads \(threads) n \(n)")
                hits.deallocate()
            }
        }
    }

    @Test func softmaxAndRMSNormMatchDefinitions() {
        var v: [Float] = [1, 2, 3, -1000]
        v.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: 4) }
        let e = [exp(-2.0), exp(-1.0), 1.0]
        let s = e.reduce(0, +)
        for i in 0..<3 { #expect(abs(Double(v[i]) - e[i] / s) < 1e-6) }
        #expect(v[3] == 0)

        let x: [Float] = [3, 4]
        let w: [Float] = [1, 2]
        var out = [Float](repeating: 0, count: 2)
        out.withUnsafeMutableBufferPointer { rmsNorm(x, w, $0.baseAddress!, count: 2, eps: 0) }
        let rms = (12.5 as Float).squareRoot()
        #expect(abs(out[0] - 3 / rms) < 1e-6 && abs(out[1] - 8 / rms) < 1e-6)
    }
}

@Suite struct HalfConversionTests {
    /// Our bit-level conversion equals the standard library's for all 65,536 halves.
    @Test func everyHalfConvertsLikeFloat16() {
        for bits in 0...UInt16.max {
            let ours = halfToFloat(bits)
            let reference = Float(Float16(bitPattern: bits))
            if reference.isNaN {
                #expect(ours.isNaN)
            } else {
                #expect(ours.bitPattern == reference.bitPattern, "0x\(String(bits, radix: 16))")
            }
        }
    }
}

@Suite struct ThreadPoolTests {
    /// Jobs posted after the workers have gone to sleep, and right as they do, all complete:
    /// random pauses between jobs exercise the sleep/wake hand-off (a lost wake-up hangs here).
    @Test func jobsAcrossSleepAndWakeAllComplete() {
        let pool = ThreadPool(threads: 3)
        var rng = SplitMix(seed: 99)
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        defer { sums.deallocate() }
        for round in 0..<600 {
            let n = 1 + Int(rng.next() % 64)
            sums.initialize(repeating: 0, count: 64)
            pool.parallelFor(n) { r in for i in r { sums[i] += i + round } }
            #expect((0..<n).allSatisfy { sums[$0] == $0 + round })
            let pause = rng.next() % 4
            if pause == 1 { usleep(UInt32(rng.next() % 300)) } else if pause == 2 { usleep(2000) }
        }
    }
}
