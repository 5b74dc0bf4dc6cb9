import Foundation
import Testing
import SeekFormats

/// Safetensors files written byte by byte here (the format is an 8-byte header length, a JSON
/// header and the data), valid and broken.
@Suite struct SafetensorsTests {
    private func write(_ header: String, data: [UInt8], lengthOverride: UInt64? = nil) throws -> String {
        var bytes: [UInt8] = []
        let h = Array(header.utf8)
        var n = lengthOverride ?? UInt64(h.count)
        withUnsafeBytes(of: &n) { bytes += $0 }
        bytes += h + data
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseek-st-\(UUID().uuidString).safetensors")
        try Data(bytes).write(to: url)
        return url.path
    }

    private func floats(_ v: [Float]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }

    @Test func validFileMapsTensorsInGGMLOrder() throws {
        let path = try write(#"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[24,28]}}"#,
                             data: floats([1, 2, 3, 4, 5, 6]) + [0x80, 0x3F, 0x00, 0x40])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let f = try SafetensorsFile(path: path)
        let w = try #require(f.tensors["w"])
        #expect(w.dims == [3, 2] && w.type == .f32)
        #expect(w.data.load(fromByteOffset: 20, as: Float.self) == 6)
        #expect(f.tensors["b"]?.type == .bf16)
        #expect(f.metadata["format"] == "pt")
        #expect(f.names == ["w", "b"])
    }

    @Test func brokenFilesGiveKindedErrorsNamingTheFile() throws {
        let cases: [(String, [UInt8], UInt64?, FormatError.Kind)] = [
            (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, floats([1]), nil, .dataOutOfBounds),
            (#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, floats([1, 2]), nil, .badModel),
            (#"{"w":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}}"#, floats([1, 2]), nil, .unknownTensorType),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, floats([1, 2, 3]), nil, .badModel),
            (#"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, floats([1, 2]), nil, .dimensionOverflow),
            (#"not json at all"#, [], nil, .badMagic),
            (#"{"w":1}"#, [], nil, .badModel),
            (#"{}"#, [], 1 << 40, .truncated),
        ]
        for (header, data, length, kind) in cases {
            let path = try write(header, data: data, lengthOverride: length)
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                _ = try SafetensorsFile(path: path)
                Issue.record("loaded: \(header)")
            } catch {
                #expect(error.kind == kind, "\(header): \(error)")
                #expect(error.description.hasPrefix(path))
            }
        }
    }

    @Test func foldersNeedConfigAndWeights() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swiftseek-hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: FormatError.self) { try HuggingFaceFolder(path: dir.path) }
        try Data(#"{"model_type":"deepseek_v3"}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        do { _ = try HuggingFaceFolder(path: dir.path); Issue.record("loaded") } catch {
            #expect("\(error)".contains("model.safetensors"))
        }
        try Data(#"{"weight_map":{"w":"../escape.safetensors"}}"#.utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        #expect(throws: FormatError.self) { try HuggingFaceFolder(path: dir.path) }
    }
}
