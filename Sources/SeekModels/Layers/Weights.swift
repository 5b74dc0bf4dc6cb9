import SeekFormats
import SeekKernels

/// Typed, checked access to a GGUF file's tensors by name. Every failure names the tensor.
struct Weights {
    let gguf: GGUFFile

    func has(_ name: String) -> Bool { gguf.tensorsByName[name] != nil }

    /// A linear layer's weight: GGUF dims `[cols, rows]` (in features first).
    func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
        guard let t = gguf.tensorsByName[name] else { throw gguf.modelError("missing tensor '\(name)'") }
        guard t.dims.count == 2, t.dims[0] == cols, t.dims[1] == rows else {
            throw gguf.modelError("tensor '\(name)' has shape \(t.dims), expected [\(cols), \(rows)]")
        }
        guard t.type.blockDecoder != nil else {
            throw gguf.modelError("tensor '\(name)' has type \(t.type), which SwiftSeek cannot compute with")
        }
        return WeightMatrix(name: name, type: t.type, rows: rows, cols: cols, data: gguf.data(t).baseAddress!)
    }

    /// A small vector (norm weights, biases) dequantized to floats.
    func vector(_ name: String, count: Int) throws -> [Float] {
        guard let t = gguf.tensorsByName[name] else { throw gguf.modelError("missing tensor '\(name)'") }
        guard t.elementCount == count, t.dims.count == 1 || t.rowCount == 1 else {
            throw gguf.modelError("tensor '\(name)' has shape \(t.dims), expected [\(count)]")
        }
        guard t.type.blockDecoder != nil else {
            throw gguf.modelError("tensor '\(name)' has type \(t.type), which SwiftSeek cannot compute with")
        }
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { dequantizeRow(t.type, gguf.data(t).baseAddress!, $0.baseAddress!, count: count) }
        return out
    }

    func optionalVector(_ name: String, count: Int) throws -> [Float]? {
        has(name) ? try vector(name, count: count) : nil
    }
}
