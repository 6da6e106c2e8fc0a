/// The error every user-facing mistake in Recur throws: it names the op or layer and,
/// where shapes are involved, the expected and the actual shape.
public enum RecurError: Error, CustomStringConvertible, Equatable {
    /// Two shapes that had to fit did not.
    case shapeMismatch(op: String, expected: String, actual: String)
    /// A value outside what the op or layer accepts.
    case invalidArgument(op: String, message: String)
    /// A file or data set could not be read or written.
    case io(path: String, message: String)
    /// A requested feature or configuration is not supported.
    case unsupported(op: String, message: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, expected, actual):
            return "\(op): expected shape \(expected), got \(actual)"
        case let .invalidArgument(op, message):
            return "\(op): \(message)"
        case let .io(path, message):
            return "\(path): \(message)"
        case let .unsupported(op, message):
            return "\(op): not supported: \(message)"
        }
    }
}

/// Formats a shape as Keras does, with `None` for unknown dimensions: `(None, 28, 64)`.
public func describeShape(_ shape: [Int?]) -> String {
    let parts = shape.map { $0.map(String.init) ?? "None" }
    return parts.count == 1 ? "(\(parts[0]),)" : "(" + parts.joined(separator: ", ") + ")"
}

/// Formats a concrete shape: `(2, 5, 3)`.
public func describeShape(_ shape: [Int]) -> String {
    describeShape(shape.map { Optional($0) })
}
