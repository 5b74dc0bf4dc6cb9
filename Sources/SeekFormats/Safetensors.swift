import Foundation

/// A validated, memory-mapped `.safetensors` file: an 8-byte little-endian header length, a
/// JSON header `{name: {dtype, shape, data_offsets}}`, then the data. Every tensor is checked
/// before use: known dtype, shape products that fit, byte range consistent with dtype and
/// shape, inside the file, no overlaps.
public final class SafetensorsFile: Sendable {
    public let path: String
    public let file: MappedFile
    public let dataOffset: Int
    public let tensors: [String: TensorRef]
    /// Names in file order.
    public let names: [String]
    public let metadata: [String: String]

    /// Element types of safetensors; those SwiftSeek can compute with map to a GGMLType.
    public enum DType: String, Sendable {
        case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2

        var size: Int {
            switch self {
            case .F64, .I64: 8
            case .F32, .I32: 4
            case .F16, .BF16, .I16: 2
            case .I8, .U8, .BOOL, .F8_E4M3, .F8_E5M2: 1
            }
        }

        var ggml: GGMLType? {
            switch self {
            case .F32: .f32
            case .F16: .f16
            case .BF16: .bf16
            default: nil
            }
        }
    }

    /// Raw dtypes of tensors SwiftSeek cannot compute with directly (FP8, integers).
    public let rawDTypes: [String: DType]
    private let rawRanges: [String: (dims: [Int], begin: Int, count: Int)]

    /// Any tensor's bytes (FP8 and integer ones included).
    func raw(_ name: String) -> (dims: [Int], data: UnsafeRawBufferPointer)? {
        guard let r = rawRanges[name], let base = file.base else { return nil }
        return (r.dims, UnsafeRawBufferPointer(start: base + dataOffset + r.begin, count: r.count))
    }

    public convenience init(path: String) throws(FormatError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(FormatError) {
        self.file = file
        path = file.path
        func fail(_ kind: FormatError.Kind, _ m: String) -> FormatError { FormatError(file: file.path, kind: kind, m) }
        guard file.count > 0, let base = file.base else { throw fail(.empty, "file is empty") }
        guard file.count >= 8 else { throw fail(.truncated, "file is truncated (\(file.count) bytes)") }
        let headerLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard headerLength >= 2, headerLength <= UInt64(file.count - 8), headerLength <= 100_000_000 else {
            throw fail(headerLength > UInt64(file.count - 8) ? .truncated : .badMagic,
                       "header length \(headerLength) does not fit the file (\(file.count) bytes); not a safetensors file?")
        }
        let headerData = Data(bytes: base + 8, count: Int(headerLength))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail(.badMagic, "header is not a JSON object; not a safetensors file?")
        }
        dataOffset = 8 + Int(headerLength)
        let dataSize = file.count - dataOffset
        var tensors: [String: TensorRef] = [:]
        var raw: [String: DType] = [:]
        var ranges: [(Int, Int, String)] = []
        var rawRanges: [String: (dims: [Int], begin: Int, count: Int)] = [:]
        var meta: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                for (k, v) in value as? [String: Any] ?? [:] { meta[k] = v as? String ?? "\(v)" }
                continue
            }
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail(.badModel, "tensor '\(name)' has a malformed header entry")
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw fail(.unknownTensorType, "tensor '\(name)' has unknown dtype \(dtypeName)") }
            guard shape.count <= 8, shape.allSatisfy({ $0 >= 0 }) else { throw fail(.tooManyDimensions, "tensor '\(name)' has shape \(shape)") }
            var elements = 1
            for d in shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw fail(.dimensionOverflow, "tensor '\(name)' shape \(shape) overflows") }
                elements = p
            }
            let (bytes, o) = elements.multipliedReportingOverflow(by: dtype.size)
            let (begin, end) = (offsets[0], offsets[1])
            guard !o, begin >= 0, end >= begin, end - begin == bytes else {
                throw fail(.badModel, "tensor '\(name)' data_offsets \(offsets) do not match \(dtypeName) \(shape)")
            }
            guard end <= dataSize else {
                throw fail(.dataOutOfBounds, "tensor '\(name)' data [\(begin), \(end)) runs past the end of the file (truncated?)")
            }
            ranges.append((begin, end, name))
            raw[name] = dtype
            rawRanges[name] = (shape.reversed(), begin, bytes)
            if let g = dtype.ggml {
                tensors[name] = TensorRef(name: name, type: g, dims: shape.reversed(),
                                          data: UnsafeRawBufferPointer(start: base + dataOffset + begin, count: bytes))
            }
        }
        ranges.sort { $0.0 < $1.0 }
        for k in ranges.indices.dropFirst() where ranges[k].0 < ranges[k - 1].1 {
            throw fail(.badModel, "tensors '\(ranges[k - 1].2)' and '\(ranges[k].2)' overlap")
        }
        self.tensors = tensors
        self.rawDTypes = raw
        self.rawRanges = rawRanges
        names = ranges.map(\.2)
        metadata = meta
    }
}

/// A Hugging Face model folder: `config.json` plus `model.safetensors` or a sharded
/// `model.safetensors.index.json`, all memory-mapped.
/// Immutable after `init` (the parsed config is never mutated), so sharing it is safe.
public final class HuggingFaceFolder: TensorStore, @unchecked Sendable {
    public let path: String
    /// config.json as parsed JSON.
    public let config: [String: Any]
    private let files: [SafetensorsFile]
    private let index: [String: Int]

    public init(path: String) throws {
        self.path = path
        let dir = URL(fileURLWithPath: path)
        func fail(_ m: String) -> FormatError { FormatError(file: path, kind: .badModel, m) }
        let configURL = dir.appendingPathComponent("config.json")
        guard let configData = FileManager.default.contents(atPath: configURL.path) else { throw fail("no config.json in the folder") }
        guard let config = try? JSONSerialization.jsonObject(with: configData) as? [String: Any] else {
            throw FormatError(file: configURL.path, kind: .badModel, "not a JSON object")
        }
        self.config = config
        let single = dir.appendingPathComponent("model.safetensors")
        let indexURL = dir.appendingPathComponent("model.safetensors.index.json")
        var files: [SafetensorsFile] = []
        var index: [String: Int] = [:]
        if FileManager.default.fileExists(atPath: indexURL.path) {
            guard let d = FileManager.default.contents(atPath: indexURL.path),
                  let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any],
                  let map = o["weight_map"] as? [String: String] else {
                throw FormatError(file: indexURL.path, kind: .badModel, "no weight_map")
            }
            var fileIndex: [String: Int] = [:]
            for shard in Set(map.values).sorted() {
                guard !shard.contains("/") else { throw FormatError(file: indexURL.path, kind: .badModel, "shard name '\(shard)' is not a file in the folder") }
                fileIndex[shard] = files.count
                files.append(try SafetensorsFile(path: dir.appendingPathComponent(shard).path))
            }
            for (name, shard) in map {
                guard let f = fileIndex[shard], files[f].rawDTypes[name] != nil else {
                    throw FormatError(file: indexURL.path, kind: .badModel, "tensor '\(name)' is not in \(shard)")
                }
                index[name] = f
            }
        } else if FileManager.default.fileExists(atPath: single.path) {
            files = [try SafetensorsFile(path: single.path)]
            for name in files[0].names { index[name] = 0 }
        } else {
            throw fail("no model.safetensors or model.safetensors.index.json in the folder")
        }
        self.files = files
        self.index = index
    }

    public func tensor(_ name: String) -> TensorRef? {
        if let t = index[name].flatMap({ files[$0].tensors[name] }) { return t }
        if dtype(of: name) == .F8_E4M3 { return try? dequantizedFP8(name) }
        return nil
    }

    /// DeepSeek's FP8 checkpoints: `W` in float8 e4m3 with a float32 `W_scale_inv` per
    /// 128×128 block (`weight_scale_inv`, partial blocks at the edges). Decoded to f32 once,
    /// kept for the life of the folder.
    private let fp8Lock = NSLock()
    nonisolated(unsafe) private var fp8Buffers: [String: UnsafeMutableBufferPointer<Float>] = [:]

    private func dequantizedFP8(_ name: String) throws -> TensorRef {
        fp8Lock.lock()
        defer { fp8Lock.unlock() }
        if let b = fp8Buffers[name], let t = rawTensor(name) {
            return TensorRef(name: name, type: .f32, dims: t.dims, data: UnsafeRawBufferPointer(b))
        }
        guard let t = rawTensor(name), t.dims.count == 2 else {
            throw FormatError(file: path, kind: .badModel, "FP8 tensor '\(name)' must be 2-D")
        }
        let scaleName = name + "_scale_inv"
        guard let scale = index[scaleName].flatMap({ files[$0].tensors[scaleName] }) else {
            throw FormatError(file: path, kind: .badModel, "FP8 tensor '\(name)' has no '\(scaleName)'")
        }
        let cols = t.dims[0], rows = t.dims[1]
        let block = 128
        let blockRows = (rows + block - 1) / block, blockCols = (cols + block - 1) / block
        guard scale.dims.count == 2, scale.dims[0] == blockCols, scale.dims[1] == blockRows else {
            throw FormatError(file: path, kind: .badModel, "'\(scaleName)' has shape \(scale.dims.reversed()), expected [\(blockRows), \(blockCols)] for \(rows)×\(cols) in 128×128 blocks")
        }
        var scales = [Float](repeating: 0, count: blockRows * blockCols)
        for i in 0..<scales.count { scales[i] = scale.type.floatAt(scale.data, i) }
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                let v = fp8E4M3ToFloat(t.data[r * cols + c])
                out[r * cols + c] = v * scales[(r / block) * blockCols + c / block]
            }
        }
        fp8Buffers[name] = out
        return TensorRef(name: name, type: .f32, dims: t.dims, data: UnsafeRawBufferPointer(out))
    }

    /// A tensor's bytes and dims whatever its dtype.
    private func rawTensor(_ name: String) -> (dims: [Int], data: UnsafeRawBufferPointer)? {
        guard let f = index[name] else { return nil }
        return files[f].raw(name)
    }

    deinit {
        for b in fp8Buffers.values { b.deallocate() }
    }

    /// The raw dtype of a tensor (for clear errors about FP8 and integer tensors).
    public func dtype(of name: String) -> SafetensorsFile.DType? {
        index[name].flatMap { files[$0].rawDTypes[name] }
    }

    public var tensorNames: [String] { index.keys.sorted() }

    public var modelType: String? { config["model_type"] as? String }
}

/// float8 e4m3 ("fn": no infinities, one NaN pattern) → float.
@inline(__always)
public func fp8E4M3ToFloat(_ b: UInt8) -> Float {
    let sign: Float = b & 0x80 != 0 ? -1 : 1
    let exponent = Int((b >> 3) & 0x0F)
    let mantissa = Float(b & 0x07)
    if exponent == 0x0F && b & 0x07 == 0x07 { return .nan }
    if exponent == 0 { return sign * mantissa / 8 * 0x1p-6 }
    return sign * (1 + mantissa / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
}

extension GGMLType {
    /// Element `i` of an F32/F16/BF16 tensor.
    func floatAt(_ data: UnsafeRawBufferPointer, _ i: Int) -> Float {
        switch self {
        case .f16: Float(Float16(bitPattern: data.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case .bf16: Float(bitPattern: UInt32(data.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
        default: data.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
        }
    }
}
