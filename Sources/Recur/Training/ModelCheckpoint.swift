import Foundation

/// Saves the model after every epoch, or only when `monitor` improves with `saveBestOnly`, as Keras's
/// `ModelCheckpoint`. The path is a Keras template: `{epoch}` (1-based) and any log (`{val_loss}`)
/// with Python format specs, e.g. `ckpt-{epoch:02d}-{val_loss:.2f}.weights.h5`. A path ending in
/// `.keras` saves the whole model; `.weights.h5` or `.npz` the weights. Writes are atomic.
///
/// As Keras: an epoch is "best" only when strictly better than every earlier one (no `minDelta`);
/// with `initialValueThreshold` it must also beat that; the best value is kept across `fit` calls.
public final class ModelCheckpoint: Callback {
    public let path: String
    public let monitor: String
    public let saveBestOnly: Bool
    private var best: Float?

    public init(_ path: String, monitor: String = "val_loss", saveBestOnly: Bool = false, initialValueThreshold: Float? = nil) {
        self.path = path
        self.monitor = monitor
        self.saveBestOnly = saveBestOnly
        self.best = initialValueThreshold
    }

    public func onTrainBegin(model: Model) throws {
        guard [".keras", ".weights.h5", ".npz"].contains(where: { path.hasSuffix($0) }) else {
            throw RecurError.invalidArgument(op: "ModelCheckpoint", message: "path \(path) must end in .keras, .weights.h5 or .npz")
        }
    }

    public func onEpochEnd(model: Model, epoch: Int, logs: Logs) throws {
        if saveBestOnly {
            guard let value = logs[monitor] else {
                throw RecurError.invalidArgument(op: "ModelCheckpoint", message: "monitor '\(monitor)' is not among the logs: \(logs.names.joined(separator: ", "))")
            }
            if let best, !(monitorImprovesDownward(monitor) ? value < best : value > best) { return }
            best = value
        }
        let target = try fileName(epoch: epoch, logs: logs)
        // In data-parallel training only rank 0 writes (every rank has the same weights).
        guard DataParallelContext.isChief else { return }
        if target.hasSuffix(".keras") { try model.save(to: target) } else { try model.saveWeights(to: target) }
    }

    /// The file name for the 0-based `epoch`.
    public func fileName(epoch: Int, logs: Logs) throws -> String {
        var values: [String: PythonFormat.Value] = ["epoch": .int(epoch + 1)]
        for name in logs.names { values[name] = .float(Double(logs[name]!)) }
        do {
            return try PythonFormat.format(path, values)
        } catch let PythonFormat.Failure.missing(key) {
            throw RecurError.invalidArgument(op: "ModelCheckpoint", message: "path \(path) names '\(key)', which is not among the logs: \(logs.names.joined(separator: ", "))")
        } catch {
            throw RecurError.invalidArgument(op: "ModelCheckpoint", message: "path \(path) has a format Recur does not read (\(error))")
        }
    }
}

/// The part of Python's `str.format` that Keras file-name templates use: `{name}` and
/// `{name:[0][width][.precision][d|f|e|g]}`.
enum PythonFormat {
    enum Value { case int(Int), float(Double) }
    enum Failure: Error { case missing(String), badSpec(String), unclosed }

    static func format(_ template: String, _ values: [String: Value]) throws -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            if rest[rest.index(after: open)...].first == "{" { out += "{"; rest = rest[rest.index(open, offsetBy: 2)...]; continue }
            guard let close = rest[open...].firstIndex(of: "}") else { throw Failure.unclosed }
            let field = rest[rest.index(after: open)..<close]
            let (name, spec) = field.firstIndex(of: ":").map { (String(field[..<$0]), String(field[field.index(after: $0)...])) } ?? (String(field), "")
            guard let value = values[name] else { throw Failure.missing(name) }
            out += try render(value, spec)
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func render(_ value: Value, _ spec: String) throws -> String {
        if spec.isEmpty {
            switch value {
            case .int(let i): return String(i)
            case .float(let d): return String(d)
            }
        }
        var s = Substring(spec)
        let zero = s.first == "0"
        if zero { s = s.dropFirst() }
        let width = Int(s.prefix { $0.isNumber }) ?? 0
        s = s.drop { $0.isNumber }
        var precision: Int?
        if s.first == "." {
            s = s.dropFirst()
            precision = Int(s.prefix { $0.isNumber })
            s = s.drop { $0.isNumber }
        }
        let type = s.first ?? (value.isInt ? "d" : "g")
        guard s.count <= 1, width <= 64, (precision ?? 0) <= 64 else { throw Failure.badSpec(spec) }
        let flags = zero ? "0" : ""
        switch (type, value) {
        case ("d", .int(let i)): return String(format: "%\(flags)\(width)ld", i)
        case ("d", .float(let d)) where d == d.rounded(): return String(format: "%\(flags)\(width)ld", Int(d))
        case ("f", _), ("e", _), ("g", _):
            return String(format: "%\(flags)\(width).\(precision ?? 6)\(type)", value.double)
        default: throw Failure.badSpec(spec)
        }
    }
}

extension PythonFormat.Value {
    var isInt: Bool { if case .int = self { return true }; return false }
    var double: Double {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        }
    }
}
