/// A tensor in place in a mapped file. `dims` are innermost first (ggml order: `dims[0]`
/// is the row length), whatever order the file format uses.
public struct TensorRef: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let dims: [Int]
    public let data: UnsafeRawBufferPointer

    public var elementCount: Int { dims.reduce(1, *) }
}

/// Where an architecture gets its weights from: a GGUF file or a Hugging Face folder of
/// safetensors. Keeps the mapped files alive for as long as the store lives.
public protocol TensorStore: AnyObject, Sendable {
    var path: String { get }
    func tensor(_ name: String) -> TensorRef?
}

extension TensorStore {
    public func modelError(_ detail: String) -> FormatError {
        FormatError(file: path, kind: .badModel, detail)
    }
}

extension GGUFFile: TensorStore {
    public func tensor(_ name: String) -> TensorRef? {
        tensorsByName[name].map { TensorRef(name: name, type: $0.type, dims: $0.dims, data: data($0)) }
    }
}
