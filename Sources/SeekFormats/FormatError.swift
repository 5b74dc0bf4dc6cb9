/// A problem with a model file. It always names the file, says what is wrong in one line,
/// and carries a machine-checkable `kind` (tests match on it; users read `description`).
public struct FormatError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case io
        case empty
        case truncated
        case badMagic
        case unsupportedVersion
        case countTooLarge
        case stringTooLong
        case arrayTooLarge
        case unknownValueType
        case tooManyDimensions
        case dimensionOverflow
        case unknownTensorType
        case misalignedOffset
        case dataOutOfBounds
        case badAlignment
        case duplicateTensorName
        case rowNotBlockAligned
        case invalidUTF8
        /// Metadata or tensors a model needs are missing or inconsistent.
        case badModel
    }

    public let file: String
    public let kind: Kind
    public let detail: String

    public init(file: String, kind: Kind, _ detail: String) {
        self.file = file
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(file): \(detail)" }
}
