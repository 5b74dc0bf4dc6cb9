import CSeekSIMD
import SeekFormats
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// Integer dot products: activations quantized once per row to 16-bit (or, by choice, 8-bit)
// blocks of 32 values, then multiplied against the weights' own blocks with AVX2's vpmaddwd
// (vpmaddubsw for 8 bits) in the C module CSeekSIMD, whose header says why 16 bits is the
// default. The float kernels beside them (FusedDot.swift) remain the exact path: for CPUs
// without AVX2 and for `--exact` runs.

/// Which kernels the process uses. Read once per matmul.
public enum KernelSettings {
    /// The CPU runs AVX2, FMA and F16C (checked once).
    public static let hasAVX2: Bool = seek_cpu_has_avx2() != 0

    private static let exact = Atomic<Bool>(getenv("SWIFTSEEK_EXACT").map { String(cString: $0) == "1" } ?? false)
    private static let eightBit = Atomic<Bool>(getenv("SWIFTSEEK_ACTIVATIONS").map { String(cString: $0) == "8" } ?? false)

    /// Float activations everywhere (no 16-bit activation quantization): results within
    /// ~1e-5 of a float reference instead of ~1e-4. Slower; for parity checks (`--exact`, or
    /// SWIFTSEEK_EXACT=1 in the environment).
    public static var exactActivations: Bool {
        get { exact.load(ordering: .relaxed) }
        set { exact.store(newValue, ordering: .relaxed) }
    }

    /// The width of quantized activations, 16 (default) or 8 bits (`--activations 8`, or
    /// SWIFTSEEK_ACTIVATIONS=8 in the environment): 8 bits is llama.cpp's precision, faster
    /// (one vpmaddubsw per block instead of two vpmaddwd on widened weights) and further from
    /// the float reference (SmolLM2 logits 0.14 off on average instead of 0.002; see
    /// scripts/activation-drift.sh). Set before a model runs;
    /// one width for the whole process, so a token's result never depends on its batch.
    public static var activationBits: Int {
        get { eightBit.load(ordering: .relaxed) ? 8 : 16 }
        set {
            precondition(newValue == 8 || newValue == 16, "activations are 8 or 16 bits")
            eightBit.store(newValue == 8, ordering: .relaxed)
        }
    }

    /// Whether weights of `type` multiply quantized activations (rows up to 32768 values).
    public static func usesQuantizedActivations(_ type: GGMLType, columns: Int = 0) -> Bool {
        hasAVX2 && !exactActivations && IntegerKernel(type) != nil && columns <= 32 * Int(SEEK_MAX_BLOCKS)
    }
}

/// The weight formats with an integer kernel.
@usableFromInline
enum IntegerKernel {
    case q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q6_K

    @usableFromInline init?(_ type: GGMLType) {
        switch type {
        case .q8_0: self = .q8_0
        case .q4_0: self = .q4_0
        case .q4_1: self = .q4_1
        case .q5_0: self = .q5_0
        case .q5_1: self = .q5_1
        case .q4_K: self = .q4_K
        case .q6_K: self = .q6_K
        default: return nil
        }
    }

    /// The format's number in the C kernels.
    @usableFromInline var cKind: Int32 {
        switch self {
        case .q8_0: Int32(SEEK_Q8_0)
        case .q4_0: Int32(SEEK_Q4_0)
        case .q4_1: Int32(SEEK_Q4_1)
        case .q5_0: Int32(SEEK_Q5_0)
        case .q5_1: Int32(SEEK_Q5_1)
        case .q4_K: Int32(SEEK_Q4_K)
        case .q6_K: Int32(SEEK_Q6_K)
        }
    }
}

/// Rows of activations quantized to 16 (or 8) bits in blocks of 32: per row `cols` int16
/// values (inside each block in the kernels' order: the even values, then the odd ones; see
/// `position(ofValue:)`) or `cols` int8 values in column order,
/// `cols / 32` float scales d and `cols / 16` sums d·Σq of 16 values. For the kernels that
/// take eight rows at once the scales and sums are also kept block-major per group of eight
/// rows (`dT`: group g, block b, row t at (g·blocks + b)·8 + t; `sT` the same per 16 values;
/// zeros past the last row). One allocation.
public final class QuantizedActivations {
    public let rows: Int
    public let cols: Int
    /// 16 or 8.
    public let bits: Int
    let raw: UnsafeMutableRawPointer
    /// The values: Int16 (16 bits) or Int8 (8 bits).
    let q: UnsafeMutableRawPointer
    let d: UnsafeMutablePointer<Float>
    let s: UnsafeMutablePointer<Float>
    let dT: UnsafeMutablePointer<Float>
    /// The sums of each group of eight rows, block-major like dT (sT[(g·2·blocks + j)·8 + t]).
    let sT: UnsafeMutablePointer<Float>

    /// `cols` must be a multiple of 32; `bits` 16 or 8 (default: `KernelSettings.activationBits`).
    public init(rows: Int, cols: Int, bits: Int = KernelSettings.activationBits) {
        precondition(cols % 32 == 0, "activation rows must be whole blocks of 32")
        precondition(bits == 8 || bits == 16, "activations are 8 or 16 bits")
        self.rows = rows
        self.cols = cols
        self.bits = bits
        let groups = (rows + 7) / 8
        let qBytes = (rows * cols * bits / 8 + 63) & ~63
        let dBytes = (rows * cols / 32 * 4 + 63) & ~63
        let sBytes = (rows * cols / 16 * 4 + 63) & ~63
        let dTBytes = (groups * 8 * cols / 32 * 4 + 63) & ~63
        raw = .allocate(byteCount: qBytes + dBytes + sBytes + dTBytes + groups * 8 * cols / 16 * 4, alignment: 64)
        q = raw
        d = (raw + qBytes).bindMemory(to: Float.self, capacity: rows * cols / 32)
        s = (raw + qBytes + dBytes).bindMemory(to: Float.self, capacity: rows * cols / 16)
        dT = (raw + qBytes + dBytes + sBytes).bindMemory(to: Float.self, capacity: groups * 8 * cols / 32)
        sT = (raw + qBytes + dBytes + sBytes + dTBytes).bindMemory(to: Float.self, capacity: groups * 8 * cols / 16)
    }

    deinit { raw.deallocate() }

    /// The 16-bit values (bits == 16).
    var q16: UnsafeMutablePointer<Int16> { q.assumingMemoryBound(to: Int16.self) }
    /// The 8-bit values (bits == 8).
    var q8: UnsafeMutablePointer<Int8> { q.assumingMemoryBound(to: Int8.self) }

    /// Quantizes `rows × cols` floats (row-major): each block of 32 gets d = max|x| / 32767
    /// (127 for 8 bits) and q = round(x · (1 / d)) (ties to even). AVX2 where the CPU has it
    /// (the only case where the integer kernels run), else the Swift reference.
    public func quantize(_ x: UnsafePointer<Float>, reference: Bool = false) {
        quantize(x, groups: 0..<groups, reference: reference)
    }

    /// Groups of eight rows (the last one may be short).
    public var groups: Int { (rows + 7) / 8 }

    /// `quantize` for rows 8g..<8g + 8 of each group g in `range` only, with those groups'
    /// block-major scales and sums: groups write disjoint memory, so threads can quantize
    /// different groups of one matrix at once (`quantizeAll`).
    public func quantize(_ x: UnsafePointer<Float>, groups range: Range<Int>, reference: Bool = false) {
        let nb = cols / 32
        for g in range {
            for r in (8 * g)..<min(8 * g + 8, rows) {
                let xr = x + r * cols, dr = d + r * nb, sr = s + r * 2 * nb
                switch (bits, KernelSettings.hasAVX2 && !reference) {
                case (16, true): seek_quantize_q16(xr, Int32(cols), q16 + r * cols, dr, sr)
                case (16, false): Self.quantizeRowReference(xr, cols, q16 + r * cols, dr, sr)
                case (_, true): seek_quantize_q8(xr, Int32(cols), q8 + r * cols, dr, sr)
                default: Self.quantizeRowReference8(xr, cols, q8 + r * cols, dr, sr)
                }
            }
            if rows > 1 {
                Self.transposeScales(d, rows: rows, blocks: nb, group: g, into: dT)
                Self.transposeScales(s, rows: rows, blocks: 2 * nb, group: g, into: sT)
            }
        }
    }

    /// Quantizes each input into its activations: serially for a few rows (decode), else the
    /// groups of eight rows of all of them shared out across the pool (a prefill's 512 rows,
    /// or a MoE layer's ~3,500 expert rows, had left the other threads waiting).
    static func quantizeAll(_ inputs: [(x: UnsafePointer<Float>, act: QuantizedActivations)], pool: ThreadPool) {
        let rows = inputs.reduce(0) { $0 + $1.act.rows }
        guard rows >= 32, pool.threadCount > 1 else {
            for input in inputs { input.act.quantize(input.x) }
            return
        }
        var starts = [0]
        for input in inputs { starts.append(starts[starts.count - 1] + input.act.groups) }
        pool.parallelFor(starts[inputs.count]) { range in
            for (i, input) in inputs.enumerated() {
                let lo = max(range.lowerBound, starts[i]), hi = min(range.upperBound, starts[i + 1])
                if lo < hi { input.act.quantize(input.x, groups: (lo - starts[i])..<(hi - starts[i])) }
            }
        }
    }

    /// The scales (or sums) of group `g` of eight rows, block-major (zeros past the last row).
    static func transposeScales(_ d: UnsafePointer<Float>, rows: Int, blocks nb: Int, group g: Int, into dT: UnsafeMutablePointer<Float>) {
        let group = dT + g * nb * 8
        for t in 0..<8 {
            let r = 8 * g + t
            if r < rows {
                let row = d + r * nb
                for b in 0..<nb { group[8 * b + t] = row[b] }
            } else {
                for b in 0..<nb { group[8 * b + t] = 0 }
            }
        }
    }

    /// `transposeScales(_:rows:blocks:group:into:)` for every group.
    static func transposeScales(_ d: UnsafePointer<Float>, rows: Int, blocks nb: Int, into dT: UnsafeMutablePointer<Float>) {
        for g in 0..<((rows + 7) / 8) { transposeScales(d, rows: rows, blocks: nb, group: g, into: dT) }
    }

    /// Where value `i` of a block of 32 is stored: the even values first (0, 2, ..., 30 at
    /// 0..<16), then the odd ones — the order in which the kernels widen weight bytes.
    @inline(__always)
    static func position(ofValue i: Int) -> Int { (i & 1) * 16 + (i >> 1) }

    /// The quantized value for column `c` of row `r`.
    func value(row r: Int, column c: Int) -> Int16 {
        bits == 8 ? Int16(q8[r * cols + c]) : q16[r * cols + (c & ~31) + Self.position(ofValue: c & 31)]
    }

    /// The quantized values (in column order), scales and sums of row `r` (for tests).
    public func blocks(row r: Int) -> (q: [Int16], d: [Float], s: [Float]) {
        ((0..<cols).map { value(row: r, column: $0) },
         Array(UnsafeBufferPointer(start: d + r * cols / 32, count: cols / 32)),
         Array(UnsafeBufferPointer(start: s + r * cols / 16, count: cols / 16)))
    }

    static func quantizeRowReference(_ x: UnsafePointer<Float>, _ n: Int, _ q: UnsafeMutablePointer<Int16>,
                                     _ d: UnsafeMutablePointer<Float>, _ s: UnsafeMutablePointer<Float>) {
        let raw = UnsafeRawPointer(x)
        for b in 0..<(n / 32) {
            var v = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            v.0 = raw.loadUnaligned(fromByteOffset: 128 * b, as: SIMD8<Float>.self)
            v.1 = raw.loadUnaligned(fromByteOffset: 128 * b + 32, as: SIMD8<Float>.self)
            v.2 = raw.loadUnaligned(fromByteOffset: 128 * b + 64, as: SIMD8<Float>.self)
            v.3 = raw.loadUnaligned(fromByteOffset: 128 * b + 96, as: SIMD8<Float>.self)
            func magnitude(_ a: SIMD8<Float>) -> SIMD8<Float> { pointwiseMax(a, -a) }
            let m = pointwiseMax(pointwiseMax(magnitude(v.0), magnitude(v.1)), pointwiseMax(magnitude(v.2), magnitude(v.3))).max()
            let scale = m / 32767 as Float
            d[b] = scale
            let inv = SIMD8<Float>(repeating: scale == 0 ? 0 : 1 / scale)
            func ints(_ a: SIMD8<Float>) -> SIMD8<Int32> {
                SIMD8<Int32>((a * inv).rounded(.toNearestOrEven))
            }
            let i0 = ints(v.0), i1 = ints(v.1), i2 = ints(v.2), i3 = ints(v.3)
            let block = q + 32 * b
            func store(_ ints: SIMD8<Int32>, from first: Int) {
                for lane in 0..<8 { block[position(ofValue: first + lane)] = Int16(truncatingIfNeeded: ints[lane]) }
            }
            store(i0, from: 0)
            store(i1, from: 8)
            store(i2, from: 16)
            store(i3, from: 24)
            s[2 * b] = scale * Float((i0 &+ i1).wrappedSum())
            s[2 * b + 1] = scale * Float((i2 &+ i3).wrappedSum())
        }
    }

    /// The 8-bit reference: d = max|x| / 127, q = round-half-even(x / d) in column order, and
    /// s as for 16 bits (bit-identical to seek_quantize_q8).
    static func quantizeRowReference8(_ x: UnsafePointer<Float>, _ n: Int, _ q: UnsafeMutablePointer<Int8>,
                                      _ d: UnsafeMutablePointer<Float>, _ s: UnsafeMutablePointer<Float>) {
        for b in 0..<(n / 32) {
            let block = x + 32 * b
            var m: Float = 0
            for i in 0..<32 { m = max(m, abs(block[i])) }
            let scale = m / 127 as Float
            d[b] = scale
            let inv: Float = scale == 0 ? 0 : 1 / scale
            var sums = (Int32(0), Int32(0))
            for i in 0..<32 {
                let v = Int32((block[i] * inv).rounded(.toNearestOrEven))
                q[32 * b + i] = Int8(truncatingIfNeeded: v)
                if i < 16 { sums.0 &+= v } else { sums.1 &+= v }
            }
            s[2 * b] = scale * Float(sums.0)
            s[2 * b + 1] = scale * Float(sums.1)
        }
    }

    /// One weight row of `kernel`'s format times activation rows `first ..< first + count`
    /// (count 1...8; the SIMD kernel decodes the weights once for all of them): out[0..<count].
    /// Several rows at once need `first` to start a group of eight (as matmul's tiles do);
    /// otherwise their scales are gathered for this call (the results are the same: each row
    /// gets the operations it would get alone).
    @inline(__always)
    func dot(_ kernel: IntegerKernel, _ w: UnsafeRawPointer, rows first: Int, count: Int, _ out: UnsafeMutablePointer<Float>) {
        let nb = cols / 32
        let wp = w.assumingMemoryBound(to: UInt8.self)
        if count == 1 || first % 8 == 0 {
            rowsKernel(kernel, wp, first: first, count: count, dT: dT + first * nb, sT: sT + first * 2 * nb, out)
            return
        }
        var gathered = [Float](repeating: 0, count: 8 * 3 * nb)
        gathered.withUnsafeMutableBufferPointer { g in
            let gd = g.baseAddress!, gs = gd + 8 * nb
            Self.transposeScales(d + first * nb, rows: count, blocks: nb, into: gd)
            Self.transposeScales(s + first * 2 * nb, rows: count, blocks: 2 * nb, into: gs)
            rowsKernel(kernel, wp, first: first, count: count, dT: gd, sT: gs, out)
        }
    }

    /// seek_dot_rows for this width.
    @inline(__always)
    private func rowsKernel(_ kernel: IntegerKernel, _ w: UnsafePointer<UInt8>, first: Int, count: Int,
                            dT: UnsafePointer<Float>, sT: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        let nb = Int32(cols / 32), n = Int32(cols), dr = d + first * cols / 32, sr = s + first * cols / 16
        if bits == 8 {
            seek_dot_rows_q8(kernel.cKind, w, nb, q8 + first * cols, dr, dT, sr, sT, n, Int32(count), out)
        } else {
            seek_dot_rows(kernel.cKind, w, nb, q16 + first * cols, dr, dT, sr, sT, n, Int32(count), out)
        }
    }

    /// Activation row 0 against weight rows `rows` of a matrix at `base` (rows `rowBytes`
    /// apart): out[r] for each r (decode's loop, with nothing but the kernel call inside).
    @inline(__always)
    func dotEachRow(_ kernel: IntegerKernel, _ base: UnsafeRawPointer, rowBytes: Int, rows: Range<Int>, _ out: UnsafeMutablePointer<Float>) {
        let kind = kernel.cKind, nb = Int32(cols / 32), n = Int32(cols)
        let d = self.d, s = self.s
        let w = base.assumingMemoryBound(to: UInt8.self)
        let first = Int32(rows.lowerBound), last = Int32(rows.upperBound)
        if bits == 8 {
            seek_dot_each_row_q8(kind, w, rowBytes, first, last, nb, q8, d, s, n, out)
        } else {
            seek_dot_each_row(kind, w, rowBytes, first, last, nb, q16, d, s, n, out)
        }
    }

    /// Activation rows 0..<tokens (2...8, batched decode) against weight rows `rows`: out[t·ostride + r]
    /// (the kernel `dot(_:_:rows:count:_:)` gives each weight row, in one C loop that asks for
    /// the weights ahead as decode's does).
    @inline(__always)
    func dotEachRow(_ kernel: IntegerKernel, _ base: UnsafeRawPointer, rowBytes: Int, rows: Range<Int>, tokens: Int,
                    _ out: UnsafeMutablePointer<Float>, stride ostride: Int) {
        let kind = kernel.cKind, nb = Int32(cols / 32), n = Int32(cols)
        let d = self.d, s = self.s, dT = self.dT, sT = self.sT
        let w = base.assumingMemoryBound(to: UInt8.self)
        let first = Int32(rows.lowerBound), last = Int32(rows.upperBound)
        if bits == 8 {
            seek_dot_each_row_few_q8(kind, w, rowBytes, first, last, nb, q8, d, dT, s, sT, n, Int32(tokens), out, ostride)
        } else {
            seek_dot_each_row_few(kind, w, rowBytes, first, last, nb, q16, d, dT, s, sT, n, Int32(tokens), out, ostride)
        }
    }

    /// Row `r`'s dot product with one weight row (the SIMD kernel, one token).
    @inline(__always)
    func dot(_ kernel: IntegerKernel, _ w: UnsafeRawPointer, row r: Int) -> Float {
        var out: Float = 0
        dot(kernel, w, rows: r, count: 1, &out)
        return out
    }

    /// Row `r` as the floats it stands for (q × d): what the kernels multiply.
    public func dequantized(row r: Int) -> [Float] {
        (0..<cols).map { Float(value(row: r, column: $0)) * d[r * cols / 32 + $0 / 32] }
    }

    /// The scalar reference for every integer kernel: the weight row decoded by the
    /// (bit-exact) dequantizer, times this row's dequantized values, summed in Double.
    public func referenceDot(_ type: GGMLType, _ w: UnsafeRawPointer, row r: Int) -> Double {
        var wf = [Float](repeating: 0, count: cols)
        wf.withUnsafeMutableBufferPointer { dequantizeRow(type, w, $0.baseAddress!, count: cols) }
        let xf = dequantized(row: r)
        var sum = 0.0
        for i in 0..<cols { sum += Double(wf[i]) * Double(xf[i]) }
        return sum
    }

    /// The SIMD kernel for `type` on row `r`, for tests; nil when there is none.
    public func simdDot(_ type: GGMLType, _ w: UnsafeRawPointer, row r: Int) -> Float? {
        guard KernelSettings.hasAVX2, let k = IntegerKernel(type) else { return nil }
        return dot(k, w, row: r)
    }

    /// The SIMD kernel for `type` on rows `first ..< first + count` at once (count 1...8), for tests.
    public func simdDot(_ type: GGMLType, _ w: UnsafeRawPointer, rows first: Int, count: Int) -> [Float]? {
        guard KernelSettings.hasAVX2, let k = IntegerKernel(type), (1...8).contains(count) else { return nil }
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { dot(k, w, rows: first, count: count, $0.baseAddress!) }
        return out
    }
}
