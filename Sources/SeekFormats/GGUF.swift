/// A metadata value of a GGUF file.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// Any integer value as `Int` (nil for non-integers and values out of range).
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(exactly: v)
        default: nil
        }
    }

    /// Any numeric value as `Double`.
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: int.map(Double.init)
        }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var array: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// A short rendering for `swiftseek info` (long arrays are summarised).
    public var summary: String {
        switch self {
        case .string(let s): s.count > 80 ? "\"\(s.prefix(77))...\" (\(s.utf8.count) bytes)" : "\"\(s)\""
        case .array(let a): a.count > 8 ? "[\(a.count) items]" : "[" + a.map(\.summary).joined(separator: ", ") + "]"
        case .bool(let b): "\(b)"
        case .float32(let v): "\(v)"
        case .float64(let v): "\(v)"
        default: int.map(String.init) ?? "?"
        }
    }
}

/// Where one tensor lives in a GGUF file. `dims` are ggml order: `dims[0]` is the row length.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    public let dims: [Int]
    public let type: GGMLType
    /// Offset from the start of the file (already includes the data section start).
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { dims.reduce(1, *) }
    /// Number of rows when viewed as a matrix whose rows are `dims[0]` long.
    public var rowCount: Int { dims.dropFirst().reduce(1, *) }
}

/// A validated, memory-mapped GGUF file (versions 2 and 3).
///
/// Everything is checked before use: magic, version, counts against the bytes that remain,
/// string and array lengths, tensor dimensions (count, overflow, block alignment of rows),
/// tensor types, offsets (alignment, range inside the file) and duplicate names. Any
/// problem throws a `FormatError` that names the file; nothing is allocated from an
/// unchecked count.
public final class GGUFFile: Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order (for display).
    public let metadataKeys: [String]
    public let tensors: [GGUFTensorInfo]
    public let tensorsByName: [String: GGUFTensorInfo]
    public let alignment: Int
    public let dataOffset: Int
    public let file: MappedFile

    public convenience init(path: String) throws(FormatError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(FormatError) {
        self.file = file
        self.path = file.path
        var r = ByteReader(file: file)
        guard file.count > 0 else { throw FormatError(file: path, kind: .empty, "file is empty") }
        guard file.count >= 4 else { throw r.fail(.truncated, "file is truncated (\(file.count) bytes)") }
        let magic = try r.u32()
        guard magic == 0x4655_4747 else {
            throw r.fail(.badMagic, "not a GGUF file (magic 0x\(String(magic, radix: 16)))")
        }
        version = try r.u32()
        guard version == 2 || version == 3 else {
            throw r.fail(.unsupportedVersion, "unsupported GGUF version \(version) (supported: 2, 3)")
        }
        let tensorCount = try r.u64()
        let kvCount = try r.u64()
        // Smallest possible encodings: a kv is a key length (8) + type (4) + 1 byte value;
        // a tensor info is a name length (8) + n_dims (4) + type (4) + offset (8).
        guard kvCount <= UInt64(r.remaining / 13) else {
            throw r.fail(.countTooLarge, "metadata count \(kvCount) is larger than the file can hold")
        }
        guard tensorCount <= UInt64(r.remaining / 24) else {
            throw r.fail(.countTooLarge, "tensor count \(tensorCount) is larger than the file can hold")
        }

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0..<Int(kvCount) {
            let key = try r.string()
            let type = try r.u32()
            let value = try r.value(type: type, depth: 0)
            if metadata.updateValue(value, forKey: key) == nil { keys.append(key) }
        }
        self.metadata = metadata
        self.metadataKeys = keys

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let v = a.int, v > 0, v & (v - 1) == 0, v <= 1 << 20 else {
                throw r.fail(.badAlignment, "general.alignment \(a.summary) is not a power of two")
            }
            alignment = v
        }
        self.alignment = alignment

        struct RawInfo { let name: String; let dims: [Int]; let type: GGMLType; let offset: Int }
        var raw: [RawInfo] = []
        raw.reserveCapacity(Int(tensorCount))
        for _ in 0..<Int(tensorCount) {
            let name = try r.string()
            let nDims = try r.u32()
            guard nDims <= 4 else {
                throw r.fail(.tooManyDimensions, "tensor '\(name)' has \(nDims) dimensions (at most 4)")
            }
            var dims: [Int] = []
            var elements = 1
            for _ in 0..<Int(nDims) {
                let d = try r.u64()
                guard let di = Int(exactly: d) else {
                    throw r.fail(.dimensionOverflow, "tensor '\(name)' has dimension \(d), too large")
                }
                let (p, o) = elements.multipliedReportingOverflow(by: di)
                guard !o else {
                    throw r.fail(.dimensionOverflow, "tensor '\(name)' dimensions overflow when multiplied")
                }
                elements = p
                dims.append(di)
            }
            let typeRaw = try r.u32()
            guard let type = GGMLType(rawValue: typeRaw) else {
                throw r.fail(.unknownTensorType, "tensor '\(name)' has unknown type \(typeRaw)")
            }
            let offset = try r.u64()
            guard let off = Int(exactly: offset), off <= file.count else {
                throw r.fail(.dataOutOfBounds, "tensor '\(name)' offset \(offset) is past the end of the file")
            }
            raw.append(RawInfo(name: name, dims: dims, type: type, offset: off))
        }
        let headerEnd = r.position
        let dataOffset = (headerEnd + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset

        var tensors: [GGUFTensorInfo] = []
        var byName: [String: GGUFTensorInfo] = [:]
        for t in raw {
            let rowLength = t.dims.first ?? 1
            guard rowLength % t.type.blockSize == 0 else {
                throw r.fail(.rowNotBlockAligned, "tensor '\(t.name)' rows of \(rowLength) values are not whole \(t.type) blocks of \(t.type.blockSize)")
            }
            guard let bytes = t.type.byteCount(elements: t.dims.reduce(1, *)) else {
                throw r.fail(.dimensionOverflow, "tensor '\(t.name)' byte size overflows")
            }
            guard t.offset % alignment == 0 else {
                throw r.fail(.misalignedOffset, "tensor '\(t.name)' offset \(t.offset) is not a multiple of the alignment \(alignment)")
            }
            let (start, o1) = dataOffset.addingReportingOverflow(t.offset)
            let (end, o2) = start.addingReportingOverflow(bytes)
            guard !o1, !o2, end <= file.count else {
                throw r.fail(.dataOutOfBounds, "tensor '\(t.name)' data [\(t.offset), +\(bytes)) runs past the end of the file (file is \(file.count) bytes; truncated?)")
            }
            let info = GGUFTensorInfo(name: t.name, dims: t.dims, type: t.type, fileOffset: start, byteCount: bytes)
            guard byName.updateValue(info, forKey: t.name) == nil else {
                throw r.fail(.duplicateTensorName, "tensor '\(t.name)' appears twice")
            }
            tensors.append(info)
        }
        self.tensors = tensors
        self.tensorsByName = byName
    }

    /// The raw bytes of a tensor (validated at load).
    public func data(_ info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        file.bytes(at: info.fileOffset, count: info.byteCount)
    }

    // MARK: typed metadata access with errors that name the key

    public func modelError(_ detail: String) -> FormatError {
        FormatError(file: path, kind: .badModel, detail)
    }

    public func int(_ key: String) throws(FormatError) -> Int {
        guard let v = metadata[key] else { throw modelError("missing metadata key '\(key)'") }
        guard let i = v.int else { throw modelError("metadata key '\(key)' should be an integer, found \(v.summary)") }
        return i
    }

    public func int(_ key: String, default d: Int) throws(FormatError) -> Int {
        metadata[key] == nil ? d : try int(key)
    }

    public func double(_ key: String, default d: Double? = nil) throws(FormatError) -> Double {
        guard let v = metadata[key] else {
            if let d { return d }
            throw modelError("missing metadata key '\(key)'")
        }
        guard let x = v.double else { throw modelError("metadata key '\(key)' should be a number, found \(v.summary)") }
        return x
    }

    public func string(_ key: String) throws(FormatError) -> String {
        guard let v = metadata[key] else { throw modelError("missing metadata key '\(key)'") }
        guard let s = v.string else { throw modelError("metadata key '\(key)' should be a string, found \(v.summary)") }
        return s
    }

    public func architecture() throws(FormatError) -> String { try string("general.architecture") }
}

/// A bounds-checked little-endian reader over the mapped file.
struct ByteReader {
    let file: MappedFile
    var position = 0

    init(file: MappedFile) { self.file = file }

    var remaining: Int { file.count - position }

    func fail(_ kind: FormatError.Kind, _ detail: String) -> FormatError {
        FormatError(file: file.path, kind: kind, detail)
    }

    mutating func need(_ n: Int) throws(FormatError) -> UnsafeRawPointer {
        guard n <= remaining, let base = file.base else {
            throw fail(.truncated, "file is truncated at byte \(position) (needed \(n) more bytes, \(max(0, remaining)) left)")
        }
        defer { position += n }
        return base + position
    }

    mutating func u8() throws(FormatError) -> UInt8 { try need(1).load(as: UInt8.self) }
    mutating func u16() throws(FormatError) -> UInt16 { UInt16(littleEndian: try need(2).loadUnaligned(as: UInt16.self)) }
    mutating func u32() throws(FormatError) -> UInt32 { UInt32(littleEndian: try need(4).loadUnaligned(as: UInt32.self)) }
    mutating func u64() throws(FormatError) -> UInt64 { UInt64(littleEndian: try need(8).loadUnaligned(as: UInt64.self)) }

    mutating func string() throws(FormatError) -> String {
        let start = position
        let n = try u64()
        guard n <= UInt64(file.count) else {
            throw fail(.stringTooLong, "string at byte \(start) claims \(n) bytes, more than the whole file")
        }
        guard n <= UInt64(remaining) else {
            throw fail(.truncated, "file is truncated: string at byte \(start) claims \(n) bytes but only \(remaining) remain")
        }
        let p = try need(Int(n))
        let bytes = UnsafeRawBufferPointer(start: p, count: Int(n))
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw fail(.invalidUTF8, "string at byte \(start) is not valid UTF-8")
        }
        return s
    }

    /// Size in bytes of the smallest encoding of one value of a type, for count checks.
    static func minimumSize(of type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 10, 11, 12: 8
        case 8: 8
        case 9: 12
        default: nil
        }
    }

    mutating func value(type: UInt32, depth: Int) throws(FormatError) -> GGUFValue {
        switch type {
        case 0: return .uint8(try u8())
        case 1: return .int8(Int8(bitPattern: try u8()))
        case 2: return .uint16(try u16())
        case 3: return .int16(Int16(bitPattern: try u16()))
        case 4: return .uint32(try u32())
        case 5: return .int32(Int32(bitPattern: try u32()))
        case 6: return .float32(Float(bitPattern: try u32()))
        case 7:
            let b = try u8()
            guard b <= 1 else { throw fail(.unknownValueType, "bool value \(b) at byte \(position - 1)") }
            return .bool(b == 1)
        case 8: return .string(try string())
        case 9:
            guard depth < 8 else { throw fail(.unknownValueType, "arrays nested too deeply at byte \(position)") }
            let elementType = try u32()
            let count = try u64()
            guard let size = Self.minimumSize(of: elementType) else {
                throw fail(.unknownValueType, "unknown array element type \(elementType) at byte \(position - 12)")
            }
            guard count <= UInt64(remaining / size) else {
                throw fail(.arrayTooLarge, "array of \(count) items at byte \(position - 12) is larger than the file can hold")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<Int(count) { items.append(try value(type: elementType, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try u64())
        case 11: return .int64(Int64(bitPattern: try u64()))
        case 12: return .float64(Double(bitPattern: try u64()))
        default:
            throw fail(.unknownValueType, "unknown metadata value type \(type) at byte \(position - 4)")
        }
    }
}
