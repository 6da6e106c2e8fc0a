import Foundation

/// A parsed JSON value, for reading Keras configs (`config.json`) whose shape varies by layer.
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number; one that is whole is written as an integer (`64`), as Keras writes `units`.
    case number(Double)
    /// A number Keras must read as a Python float (an optimizer's `momentum`, which Keras refuses as
    /// an int): `jsonText` writes it with a decimal point even when it is whole (`0.0`). Parsing
    /// never makes one, and it equals the `.number` of the same value.
    case float(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if n == n.rounded(), abs(n) < 1e15 { try c.encode(Int(n)) } else { try c.encode(n) }
        case .float(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var double: Double? {
        switch self {
        case .number(let n), .float(let n): n
        default: nil
        }
    }
    /// The number as an integer, when it is a whole number that JSON represents exactly (|n| ≤ 2⁵³);
    /// nil for fractions, NaN, infinities and numbers beyond that, never a trap.
    public var int: Int? {
        guard let d = double, d == d.rounded(), abs(d) <= 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { self == .null }

    /// Parses JSON text as Python's `json` module (and so Keras) reads it: when an object repeats a
    /// key, the last value wins. Nesting deeper than Foundation's limit (512) is an error, not a
    /// stack overflow. `label` names the source in errors.
    public static func parse(_ data: Data, label: String) throws -> JSONValue {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw RecurError.io(path: label, message: "not valid JSON (\((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? "syntax error"))")
        }
        return try JSONValue(foundation: object, label: label)
    }

    /// Converts what `JSONSerialization` returns (depth already bounded by it).
    private init(foundation value: Any, label: String) throws {
        // Containers first: testing a Swift dictionary or array against an ObjC class would bridge the
        // whole subtree, once per level (quadratic in the nesting).
        switch value {
        case let o as [String: Any]: self = .object(try o.mapValues { try JSONValue(foundation: $0, label: label) })
        case let a as [Any]: self = .array(try a.map { try JSONValue(foundation: $0, label: label) })
        case let s as String: self = .string(s)
        case let n as NSNumber:
            // JSON booleans arrive as NSNumbers of ObjC type "c"; JSON numbers never do.
            self = String(cString: n.objCType) == "c" ? .bool(n.boolValue) : .number(n.doubleValue)
        case is NSNull: self = .null
        default: throw RecurError.io(path: label, message: "unexpected JSON value \(type(of: value))")
        }
    }
}

extension JSONValue {
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x == y
        default: a.double != nil && a.double == b.double
        }
    }

    /// The JSON text of this value with object keys sorted, as a file Recur writes holds it. Written
    /// here rather than by `JSONEncoder` because that writes a whole Double as an integer (`0`), and
    /// Keras refuses some arguments unless they read as Python floats (`.float`: `0.0`); strings and
    /// other numbers still go through `JSONEncoder`, for its escaping and number formatting.
    public func jsonText() throws -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .float(let n) where n == n.rounded() && abs(n) < 1e15: return "\(Int(n)).0"
        case .number, .float, .string: return String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        case .array(let items): return "[" + (try items.map { try $0.jsonText() }).joined(separator: ",") + "]"
        case .object(let entries):
            let members = try entries.keys.sorted().map { key in
                try JSONValue.string(key).jsonText() + ":" + entries[key]!.jsonText()
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }
}
