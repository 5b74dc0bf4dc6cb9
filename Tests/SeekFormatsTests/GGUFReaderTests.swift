import Foundation
import Testing
import SeekFormats
import SeekTestSupport

/// One metadata entry of valid.json (written by scripts/gen_malformed_gguf.py with the `gguf` package).
private struct ExpectedValue: Decodable {
    let type: String
    let elementType: String?
    let value: Raw

    enum CodingKeys: String, CodingKey { case type, value, elementType = "element_type" }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        elementType = try c.decodeIfPresent(String.self, forKey: .elementType)
        value = try Raw.decode(c, type: type, elementType: elementType)
    }

    indirect enum Raw {
        case uint(UInt64), int(Int64), double(Double), bool(Bool), string(String), array([Raw])

        static func decode(_ c: KeyedDecodingContainer<CodingKeys>, type: String, elementType: String?) throws -> Raw {
            switch type {
            case "uint8", "uint16", "uint32", "uint64": return .uint(try c.decode(UInt64.self, forKey: .value))
            case "int8", "int16", "int32", "int64": return .int(try c.decode(Int64.self, forKey: .value))
            case "float32", "float64": return .double(try c.decode(Double.self, forKey: .value))
            case "bool": return .bool(try c.decode(Bool.self, forKey: .value))
            case "string": return .string(try c.decode(String.self, forKey: .value))
            case "array":
                if elementType == "array" {
                    return .array(try c.decode([ExpectedValue].self, forKey: .value).map(\.value))
                }
                var items = try c.nestedUnkeyedContainer(forKey: .value)
                var out: [Raw] = []
                while !items.isAtEnd {
                    switch elementType {
                    case "string": out.append(.string(try items.decode(String.self)))
                    case "bool": out.append(.bool(try items.decode(Bool.self)))
                    case "float32", "float64": out.append(.double(try items.decode(Double.self)))
                    case let t? where t.hasPrefix("uint"): out.append(.uint(try items.decode(UInt64.self)))
                    default: out.append(.int(try items.decode(Int64.self)))
                    }
                }
                return .array(out)
            default: throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "type \(type)")
            }
        }
    }
}

private struct ExpectedFile: Decodable {
    struct Entry: Decodable {
        let key: String
        let value: ExpectedValue
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: K.self)
            key = try c.decode(String.self, forKey: .key)
            value = try ExpectedValue(from: decoder)
        }
        enum K: String, CodingKey { case key }
    }
    struct Tensor: Decodable {
        let name: String
        let dims: [Int]
        let ggml_type: UInt32
        let offset: Int
        let n_bytes: Int
        let values: [Float]
    }
    let alignment: Int
    let data_offset: Int
    let metadata: [Entry]
    let tensors: [Tensor]
}

/// Whether a parsed value equals the expected one, with the exact GGUF type.
private func matches(_ v: GGUFValue, _ e: ExpectedValue.Raw, type: String) -> Bool {
    switch (v, e) {
    case (.uint8(let x), .uint(let y)): return type == "uint8" && UInt64(x) == y
    case (.uint16(let x), .uint(let y)): return type == "uint16" && UInt64(x) == y
    case (.uint32(let x), .uint(let y)): return type == "uint32" && UInt64(x) == y
    case (.uint64(let x), .uint(let y)): return type == "uint64" && x == y
    case (.int8(let x), .int(let y)): return type == "int8" && Int64(x) == y
    case (.int16(let x), .int(let y)): return type == "int16" && Int64(x) == y
    case (.int32(let x), .int(let y)): return type == "int32" && Int64(x) == y
    case (.int64(let x), .int(let y)): return type == "int64" && x == y
    case (.float32(let x), .double(let y)): return type == "float32" && x == Float(y)
    case (.float64(let x), .double(let y)): return type == "float64" && x == y
    case (.bool(let x), .bool(let y)): return x == y
    case (.string(let x), .string(let y)): return x == y
    case (.array(let xs), .array(let ys)):
        return type == "array" && xs.count == ys.count && zip(xs, ys).allSatisfy { x, y in
            switch (x, y) {
            case (.array, .array): return matches(x, y, type: "array")
            default: return matches(x, y, type: typeName(x))
            }
        }
    default: return false
    }
}

private func typeName(_ v: GGUFValue) -> String {
    switch v {
    case .uint8: "uint8"
    case .int8: "int8"
    case .uint16: "uint16"
    case .int16: "int16"
    case .uint32: "uint32"
    case .int32: "int32"
    case .uint64: "uint64"
    case .int64: "int64"
    case .float32: "float32"
    case .float64: "float64"
    case .bool: "bool"
    case .string: "string"
    case .array: "array"
    }
}

@Suite struct GGUFReaderTests {
    @Test(arguments: ["valid.gguf", "valid_v2.gguf"])
    func everyValueTypeAndTensorInfoMatchesTheGGUFPackage(_ file: String) throws {
        let expected = try Fixtures.json(ExpectedFile.self, "gguf/valid.json")
        let g = try GGUFFile(path: Fixtures.url("gguf/\(file)").path)
        #expect(g.version == (file == "valid.gguf" ? 3 : 2))
        #expect(g.alignment == expected.alignment)
        #expect(g.dataOffset == expected.data_offset)
        #expect(g.metadataKeys == expected.metadata.map(\.key))
        for e in expected.metadata {
            let v = try #require(g.metadata[e.key], "missing \(e.key)")
            #expect(matches(v, e.value.value, type: e.value.type), "\(e.key): got \(v)")
        }
        #expect(g.tensors.map(\.name) == expected.tensors.map(\.name))
        for t in expected.tensors {
            let info = try #require(g.tensorsByName[t.name])
            #expect(info.dims == t.dims)
            #expect(info.type.rawValue == t.ggml_type)
            #expect(info.fileOffset == expected.data_offset + t.offset)
            #expect(info.byteCount == t.n_bytes)
        }
    }

    @Test func malformedFilesGiveOneLineErrorsNamingTheFile() throws {
        let expected = try Fixtures.json([String: String].self, "gguf/malformed/expected.json")
        #expect(expected.count >= 15)
        for (file, kind) in expected.sorted(by: { $0.key < $1.key }) {
            let path = Fixtures.url("gguf/malformed/\(file)").path
            do {
                _ = try GGUFFile(path: path)
                Issue.record("\(file) loaded without error")
            } catch {
                #expect(error.kind.rawValue == kind, "\(file): \(error)")
                #expect(error.description.hasPrefix(path), "\(file): \(error)")
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func missingFileAndDirectoryAreIOErrors() {
        #expect(throws: FormatError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
        do {
            _ = try GGUFFile(path: Fixtures.root.path)
            Issue.record("a directory loaded")
        } catch {
            #expect(error.kind == .io)
        }
    }

    @Test func everyTruncationOfAValidFileFailsCleanly() throws {
        // Cut the valid file at every length up to the end of its last tensor's data (what
        // follows is padding): each prefix must throw, never crash.
        let expected = try Fixtures.json(ExpectedFile.self, "gguf/valid.json")
        let dataEnd = expected.data_offset + expected.tensors.map { $0.offset + $0.n_bytes }.max()!
        let full = try Fixtures.data("gguf/valid.gguf").prefix(dataEnd)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseek-trunc-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cut.gguf")
        for n in Array(stride(from: 0, to: full.count, by: 7)) + [full.count - 1] {
            try full.prefix(n).write(to: path)
            #expect(throws: FormatError.self, "prefix of \(n) bytes") { try GGUFFile(path: path.path) }
        }
    }
}
