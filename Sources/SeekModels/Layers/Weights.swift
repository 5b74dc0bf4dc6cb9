import SeekFormats
import SeekKernels

/// Typed, checked access to a model's tensors by name (GGUF or safetensors). Every failure
/// names the tensor.
struct Weights {
    let store: any TensorStore

    init(_ store: any TensorStore) { self.store = store }
    init(gguf: GGUFFile) { store = gguf }

    func has(_ name: String) -> Bool { store.tensor(name) != nil }

    /// A linear layer's weight: GGUF dims `[cols, rows]` (in features first).
    func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
        guard let t = store.tensor(name) else { throw store.modelError("missing tensor '\(name)'") }
        guard t.dims.count == 2, t.dims[0] == cols, t.dims[1] == rows else {
            throw store.modelError("tensor '\(name)' has shape \(t.dims.reversed()) (outermost first), expected [\(rows), \(cols)]")
        }
        guard t.type.blockDecoder != nil else {
            throw store.modelError("tensor '\(name)' has type \(t.type), which SwiftSeek cannot compute with")
        }
        return WeightMatrix(name: name, type: t.type, rows: rows, cols: cols, data: t.data.baseAddress!)
    }

    /// The `count` matrices of a 3-D tensor (GGUF dims `[cols, rows, count]`): stacked experts,
    /// or per-head projections.
    func expertMatrices(_ name: String, count: Int, rows: Int, cols: Int) throws -> [WeightMatrix] {
        guard let t = store.tensor(name) else { throw store.modelError("missing tensor '\(name)'") }
        guard t.dims == [cols, rows, count] else {
            throw store.modelError("tensor '\(name)' has dims \(t.dims), expected [\(cols), \(rows), \(count)]")
        }
        guard t.type.blockDecoder != nil, cols % t.type.blockSize == 0 else {
            throw store.modelError("tensor '\(name)' has type \(t.type), which SwiftSeek cannot compute with")
        }
        let first = WeightMatrix(name: name, type: t.type, rows: rows, cols: cols, data: t.data.baseAddress!)
        let stride = rows * first.rowBytes
        return (0..<count).map { WeightMatrix(name: "\(name)[\($0)]", type: t.type, rows: rows, cols: cols, data: t.data.baseAddress! + $0 * stride) }
    }

    /// A small vector (norm weights, biases) dequantized to floats.
    func vector(_ name: String, count: Int) throws -> [Float] {
        guard let t = store.tensor(name) else { throw store.modelError("missing tensor '\(name)'") }
        guard t.elementCount == count, t.dims.count == 1 || t.dims.dropFirst().allSatisfy({ $0 == 1 }) else {
            throw store.modelError("tensor '\(name)' has shape \(t.dims), expected [\(count)]")
        }
        guard t.type.blockDecoder != nil else {
            throw store.modelError("tensor '\(name)' has type \(t.type), which SwiftSeek cannot compute with")
        }
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { dequantizeRow(t.type, t.data.baseAddress!, $0.baseAddress!, count: count) }
        return out
    }

    func optionalVector(_ name: String, count: Int) throws -> [Float]? {
        has(name) ? try vector(name, count: count) : nil
    }
}

extension WeightMatrix {
    /// All values as floats, row-major (rows, cols): for small matrices that are used in a
    /// transposed or re-shaped way (MLA's absorbed key/value up-projections).
    func dequantizedAll() -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        out.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows { dequantizeRow(type, row(r), p.baseAddress! + r * cols, count: cols) }
        }
        return out
    }
}
