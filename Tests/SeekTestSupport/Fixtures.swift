import Foundation

/// Committed fixtures (written by scripts/gen_*.py) and real models for the test targets.
public enum Fixtures {
    /// `Tests/Fixtures`, found from this source file's location.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    public static func data(_ relative: String) throws -> Data { try Data(contentsOf: url(relative)) }

    public static func json<T: Decodable>(_ type: T.Type, _ relative: String) throws -> T {
        try JSONDecoder().decode(T.self, from: data(relative))
    }

    /// Little-endian float32 values of a file.
    public static func floats(_ relative: String) throws -> [Float] {
        let d = try data(relative)
        return d.withUnsafeBytes { raw in
            (0..<(d.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }
}

/// Real models live in the model store (`$SWIFTSEEK_HOME/models`, default
/// `~/.cache/swiftseek/models`); scripts/test.sh pulls them and sets
/// `SWIFTSEEK_REQUIRE_MODELS=1`, so a missing model fails there instead of skipping.
public enum RealModels {
    public static var storeDirectory: URL {
        let env = ProcessInfo.processInfo.environment
        if let h = env["SWIFTSEEK_HOME"], !h.isEmpty { return URL(fileURLWithPath: h).appendingPathComponent("models") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/swiftseek/models")
    }

    public static var required: Bool { ProcessInfo.processInfo.environment["SWIFTSEEK_REQUIRE_MODELS"] == "1" }

    public static func path(_ name: String) -> String? {
        let p = storeDirectory.appendingPathComponent("\(name).gguf").path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// Whether tests on this model should run: present, or required (and then they fail loudly).
    public static func available(_ name: String) -> Bool { required || path(name) != nil }

    /// A Hugging Face tokenizer folder in the store (`tokenizers/NAME`).
    public static func tokenizerPath(_ name: String) -> String? {
        let p = storeDirectory.deletingLastPathComponent().appendingPathComponent("tokenizers/\(name)").path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    public static func tokenizerAvailable(_ name: String) -> Bool { required || tokenizerPath(name) != nil }
}
