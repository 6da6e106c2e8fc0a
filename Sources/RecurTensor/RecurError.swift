/// The error every user-facing mistake in Recur throws: what it is about (`subject`: a layer with its
/// class, an op, or a file), what kind of mistake, a message, and — for shape errors — the expected and
/// the actual shape as values.
///
///     LSTM layer 'encoder': expected input of shape (None, None, 8), got (32, 10)
///     matmul: expected shape (2, 3) × (3, n), got (2, 3) × (4, 5)
///     /data/model.keras: not a ZIP archive
public struct RecurError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable {
        /// Two shapes that had to fit did not.
        case shapeMismatch
        /// A value outside what the op or layer accepts.
        case invalidArgument
        /// A file or data set could not be read or written.
        case io
        /// A requested feature or configuration is not supported.
        case unsupported
    }

    /// What an error is about.
    public enum Subject: Equatable, Sendable, CustomStringConvertible {
        /// A layer, by name and Keras class: `Dense layer 'dense_1'`.
        case layer(name: String, className: String)
        /// An op or API (`matmul`, `Tensor`, `fit`), or a subject written out in full.
        case op(String)
        /// A file, by path.
        case file(String)

        public var description: String {
            switch self {
            case let .layer(name, className): "\(className) layer '\(name)'"
            case let .op(name): name
            case let .file(path): path
            }
        }
    }

    public let kind: Kind
    public let subject: Subject
    /// For shape errors raised with shapes as values: the shape that was expected (`nil` dimensions
    /// are free) and the one given.
    public let expectedShape: [Int?]?
    public let actualShape: [Int?]?
    /// What went wrong, after the subject.
    public let message: String

    public init(_ kind: Kind, _ subject: Subject, message: String, expectedShape: [Int?]? = nil, actualShape: [Int?]? = nil) {
        (self.kind, self.subject, self.message) = (kind, subject, message)
        (self.expectedShape, self.actualShape) = (expectedShape, actualShape)
    }

    public var description: String { "\(subject): \(message)" }

    /// A shape error with both shapes as values: "expected `what` of shape (None, 8), got (32, 10)".
    public static func shapeMismatch(_ subject: Subject, what: String, expected: [Int?], actual: [Int?]) -> RecurError {
        RecurError(.shapeMismatch, subject, message: "expected \(what) of shape \(describeShape(expected)), got \(describeShape(actual))",
                   expectedShape: expected, actualShape: actual)
    }

    /// A shape error described in words: "expected shape `expected`, got `actual`".
    public static func shapeMismatch(op: String, expected: String, actual: String) -> RecurError {
        RecurError(.shapeMismatch, .op(op), message: "expected shape \(expected), got \(actual)")
    }

    /// A shape error described in words, about `subject`.
    public static func shapeMismatch(_ subject: Subject, expected: String, actual: String) -> RecurError {
        RecurError(.shapeMismatch, subject, message: "expected \(expected), got \(actual)")
    }

    public static func unsupported(_ subject: Subject, _ message: String) -> RecurError {
        RecurError(.unsupported, subject, message: "not supported: \(message)")
    }

    public static func invalidArgument(op: String, message: String) -> RecurError {
        RecurError(.invalidArgument, .op(op), message: message)
    }

    public static func invalidArgument(_ subject: Subject, _ message: String) -> RecurError {
        RecurError(.invalidArgument, subject, message: message)
    }

    public static func io(path: String, message: String) -> RecurError {
        RecurError(.io, .file(path), message: message)
    }

    public static func unsupported(op: String, message: String) -> RecurError {
        RecurError(.unsupported, .op(op), message: "not supported: \(message)")
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
