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
        index[name].flatMap { files[$0].tensors[name] }
    }

    /// The raw dtype of a tensor (for clear errors about FP8 and integer tensors).
    public func dtype(of name: String) -> SafetensorsFile.DType? {
        index[name].flatMap { files[$0].rawDTypes[name] }
    }

    public var tensorNames: [String] { index.keys.sorted() }

    public var modelType: String? { config["model_type"] as? String }
}
