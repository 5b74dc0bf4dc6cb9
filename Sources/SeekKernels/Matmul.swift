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
public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int,
                   _ out: UnsafeMutablePointer<Float>, pool: ThreadPool) {
    let k = w.cols, n = w.rows
    if tokens == 1 {
        pool.parallelFor(n, minChunk: 16) { range in
            for r in range { out[r] = dotRow(w.type, w.row(r), x, count: k) }
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
