import SeekFormats

/// Every architecture SwiftSeek can run. Adding one is a file in Architectures/ and a line here.
public let registeredArchitectures: [any Architecture.Type] = [
    Llama.self,
    Qwen2.self,
]

/// Builds the architecture named by the file's `general.architecture`.
public func loadArchitecture(_ gguf: GGUFFile) throws -> any Architecture {
    let name = try gguf.architecture()
    guard let type = registeredArchitectures.first(where: { $0.ggufArchitectures.contains(name) }) else {
        let known = registeredArchitectures.flatMap { $0.ggufArchitectures }.joined(separator: ", ")
        throw ModelError("\(gguf.path): architecture '\(name)' is not supported yet (supported: \(known))")
    }
    return try type.init(gguf: gguf)
}
