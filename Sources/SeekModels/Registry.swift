import SeekFormats

/// Every architecture SwiftSeek can run. Adding one is a file in Architectures/ and a line here.
public let registeredArchitectures: [any Architecture.Type] = [
    Llama.self,
    Qwen2.self,
    DeepseekV2.self,
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

/// Builds the architecture a Hugging Face folder's config.json names (`model_type`).
public func loadArchitecture(_ folder: HuggingFaceFolder) throws -> any Architecture {
    guard let name = folder.modelType else { throw ModelError("\(folder.path)/config.json: missing 'model_type'") }
    guard let type = registeredArchitectures.first(where: { $0.huggingFaceModelTypes.contains(name) }) else {
        let known = registeredArchitectures.flatMap { $0.huggingFaceModelTypes }.joined(separator: ", ")
        throw ModelError("\(folder.path): model_type '\(name)' is not supported yet (supported: \(known))")
    }
    return try type.init(huggingFace: folder)
}
