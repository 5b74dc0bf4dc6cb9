import SeekFormats

/// A 2-D weight matrix in place in the mapped file: `rows` rows of `cols` values of `type`.
public struct WeightMatrix: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let data: UnsafeRawPointer
    public let rowBytes: Int

    public init(name: String, type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer) {
        self.name = name
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
        self.rowBytes = cols / type.blockSize * type.typeSize
    }

    @inlinable public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }

    /// Copies row `r` as floats into `dst` (embedding lookup).
    public func dequantize(row r: Int, into dst: UnsafeMutablePointer<Float>) {
        dequantizeRow(type, row(r), dst, count: cols)
    }
}

/// `out[t, n] = sum_k w[n, k] * x[t, k]` for `t < tokens`.
///
/// Shapes: w (rows N, cols K) any supported type; x (tokens, K) f32; out (tokens, N) f32.
/// Work is split by weight rows, so each weight row is read (and decoded) once per call,
/// however many tokens there are: a prefill of T tokens reads the weights once, not T times.
///
/// Quantized weights with an integer kernel (see `KernelSettings`) multiply 16-bit
/// activations, quantized once here for all rows; the rest use the float kernels. Either
/// way every (row, token) pair is computed by the same function in the same order, so a
/// token's result does not depend on how many tokens share the call (decode == prefill).
public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int,
                   _ out: UnsafeMutablePointer<Float>, pool: ThreadPool) {
    let k = w.cols, n = w.rows
    if KernelSettings.usesQuantizedActivations(w.type, columns: k), let kernel = IntegerKernel(w.type) {
        let act = QuantizedActivations(rows: tokens, cols: k)
        QuantizedActivations.quantizeAll([(x, act)], pool: pool)
        matmulQuantized(w, kernel, act, out, pool: pool)
        return
    }
    if tokens == 1 || w.type == .f32 || (w.type == .f16 && KernelSettings.hasAVX2) {
        // Rows that need no decoding (or decode inside the dot): one dot per (row, token).
        pool.parallelFor(n, minChunk: tokens == 1 ? 16 : 4) { range in
            for r in range {
                let row = w.row(r)
                for t in 0..<tokens { out[t * n + r] = dotRow(w.type, row, x + t * k, count: k) }
            }
        }
        return
    }
    pool.parallelFor(n, minChunk: 4) { range in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: k) { buf in
            let tmp = buf.baseAddress!
            for r in range {
                dequantizeRow(w.type, w.row(r), tmp, count: k)
                for t in 0..<tokens {
                    out[t * n + r] = dotChunked(tmp, x + t * k, k)
                }
            }
        }
    }
}

/// One matrix product in a group: `out = w · x` for `tokens` rows of x.
public struct MatmulJob {
    public let w: WeightMatrix
    public let x: UnsafePointer<Float>
    public let tokens: Int
    public let out: UnsafeMutablePointer<Float>

    public init(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, _ out: UnsafeMutablePointer<Float>) {
        self.w = w
        self.x = x
        self.tokens = tokens
        self.out = out
    }
}

/// Several matrix products in one dispatch (q, k and v; gate and up; all the experts a
/// token chose): each distinct input is quantized once and one `parallelFor` covers all the
/// rows, which cuts the thread hand-offs per layer in decode several times over. Results are
/// those of separate `matmul` calls, bit for bit; jobs whose weights have no integer kernel
/// run as separate calls.
public func matmul(_ jobs: [MatmulJob], pool: ThreadPool) {
    var grouped: [(job: MatmulJob, kernel: IntegerKernel, act: QuantizedActivations)] = []
    var quantized: [(x: UnsafePointer<Float>, tokens: Int, cols: Int, act: QuantizedActivations)] = []
    for job in jobs {
        guard KernelSettings.usesQuantizedActivations(job.w.type, columns: job.w.cols), let kernel = IntegerKernel(job.w.type), job.tokens > 0 else {
            matmul(job.w, job.x, tokens: job.tokens, job.out, pool: pool)
            continue
        }
        let act: QuantizedActivations
        if let known = quantized.first(where: { $0.x == job.x && $0.tokens == job.tokens && $0.cols == job.w.cols }) {
            act = known.act
        } else {
            act = QuantizedActivations(rows: job.tokens, cols: job.w.cols)
            quantized.append((job.x, job.tokens, job.w.cols, act))
        }
        grouped.append((job, kernel, act))
    }
    guard !grouped.isEmpty else { return }
    QuantizedActivations.quantizeAll(quantized.map { ($0.x, $0.act) }, pool: pool)
    // The work in units of (weight row × token): a MoE layer's experts have different numbers
    // of tokens (the shared expert all of them), so pieces of equal row counts had very
    // different costs. A row goes to the piece that holds its first unit.
    // Pieces of at least 16 rows in decode, 4 rows of the most tokens otherwise.
    var starts = [0], most = 1, macs = 0
    for g in grouped {
        starts.append(starts[starts.count - 1] + g.job.w.rows * g.job.tokens)
        most = max(most, g.job.tokens)
        macs += g.job.w.rows * g.job.w.cols * g.job.tokens
    }
    pool.parallelFor(starts[grouped.count], minChunk: most == 1 ? 16 : 4 * most,
                     piecesPerThread: piecesPerThread(tokens: most, multiplyAdds: macs)) { range in
        for (i, g) in grouped.enumerated() {
            let lo = max(range.lowerBound, starts[i]), hi = min(range.upperBound, starts[i + 1])
            guard lo < hi else { continue }
            let c = g.job.tokens, r0 = (lo - starts[i] + c - 1) / c, r1 = (hi - starts[i] + c - 1) / c
            if r0 < r1 { quantizedRows(g.job.w, g.kernel, g.act, g.job.out, rows: r0..<r1) }
        }
    }
}

/// `matmul` of several matrices on the same input (see `matmul(_ jobs:pool:)`).
public func matmul(_ ws: [WeightMatrix], _ x: UnsafePointer<Float>, tokens: Int,
                   _ outs: [UnsafeMutablePointer<Float>], pool: ThreadPool) {
    precondition(ws.count == outs.count, "one output per matrix")
    matmul(zip(ws, outs).map { MatmulJob($0.0, x, tokens: tokens, $0.1) }, pool: pool)
}

func matmulQuantized(_ w: WeightMatrix, _ kernel: IntegerKernel, _ act: QuantizedActivations,
                     _ out: UnsafeMutablePointer<Float>, pool: ThreadPool) {
    pool.parallelFor(w.rows, minChunk: act.rows == 1 ? 16 : 4,
                     piecesPerThread: piecesPerThread(tokens: act.rows, multiplyAdds: w.rows * w.cols * act.rows)) { range in
        quantizedRows(w, kernel, act, out, rows: range)
    }
}

/// How many pieces per thread a product of `tokens` activation rows and `multiplyAdds` in all
/// is cut into. Prefill (more than eight tokens): sixteen, so the threads finish together
/// (each is still milliseconds of work). Decode: one per 256 Ki multiply-adds, from four (each
/// piece's first rows start unprefetched) to 32, so a large matrix (SmolLM2's output head is
/// 28 M) does not end with one thread alone on a piece of most of a millisecond.
@inline(__always)
func piecesPerThread(tokens: Int, multiplyAdds: Int) -> Int {
    tokens > 8 ? 16 : min(32, max(4, multiplyAdds >> 18))
}

/// Weight rows `rows` × all activation rows, in tiles (64 weight rows × 32 tokens) so a
/// tile's weights and activations stay in cache while they meet; within a tile each weight
/// row is decoded once per eight tokens.
@inline(__always)
func quantizedRows(_ w: WeightMatrix, _ kernel: IntegerKernel, _ act: QuantizedActivations,
                   _ out: UnsafeMutablePointer<Float>, rows range: Range<Int>) {
    let n = w.rows, tokens = act.rows
    if tokens == 1 {  // decode: one kernel call per row, straight into the output
        act.dotEachRow(kernel, w.data, rowBytes: w.rowBytes, rows: range, out)
        return
    }
    if tokens <= 8 {  // batched decode: one group of eight, the same calls as a tile's
        act.dotEachRow(kernel, w.data, rowBytes: w.rowBytes, rows: range, tokens: tokens, out, stride: n)
        return
    }
    var eight: (Float, Float, Float, Float, Float, Float, Float, Float) = (0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutableBytes(of: &eight) { raw in
        let results = raw.baseAddress!.assumingMemoryBound(to: Float.self)
        for r0 in stride(from: range.lowerBound, to: range.upperBound, by: 64) {
            let r1 = min(r0 + 64, range.upperBound)
            for t0 in stride(from: 0, to: tokens, by: 32) {
                let t1 = min(t0 + 32, tokens)
                for r in r0..<r1 {
                    let row = w.row(r)
                    for t in stride(from: t0, to: t1, by: 8) {
                        let m = min(8, t1 - t)
                        act.dot(kernel, row, rows: t, count: m, results)
                        for i in 0..<m { out[(t + i) * n + r] = results[i] }
                    }
                }
            }
        }
    }
}
