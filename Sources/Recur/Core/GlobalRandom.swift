import Foundation

/// The seeded generator that layers draw initial weights, dropout masks and shuffles from, as Keras's
/// global seed: one per process (`setRandomSeed(_:)` makes a run reproducible), or one per task inside
/// `withRandomSeed(_:_:)`, so concurrent code (tests) cannot disturb each other's draws.
final class GlobalRandom: @unchecked Sendable {
    private static let process = GlobalRandom(seed: 1337)
    @TaskLocal static var scoped: GlobalRandom?
    /// The generator in effect here.
    static var shared: GlobalRandom { scoped ?? process }

    private var generator: SeededGenerator
    private let lock = NSLock()

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    func seed(_ seed: UInt64) {
        lock.lock(); generator = SeededGenerator(seed: seed); lock.unlock()
    }

    /// The generator's state now, and setting it back (BackupAndRestore).
    var state: [UInt64] {
        get { lock.lock(); defer { lock.unlock() }; return generator.state }
        set { if let g = SeededGenerator(state: newValue) { lock.lock(); generator = g; lock.unlock() } }
    }

    /// Runs `body` with exclusive use of the generator.
    func draw<R>(_ body: (inout SeededGenerator) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&generator)
    }
}

/// Seeds weight initialisation, dropout and shuffling, as `keras.utils.set_random_seed`.
public func setRandomSeed(_ seed: UInt64) { GlobalRandom.shared.seed(seed) }

/// Runs `body` with its own generator seeded with `seed`: its draws are reproducible whatever runs
/// concurrently.
public func withRandomSeed<R>(_ seed: UInt64, _ body: () throws -> R) rethrows -> R {
    try GlobalRandom.$scoped.withValue(GlobalRandom(seed: seed), operation: body)
}

extension Initializer {
    /// A new weight of `shape` for `layer`: drawn from the global generator, or zeros while a model is
    /// read from a file (`WeightsFromFile`), whose values replace them — so loading never pays for an
    /// initializer (orthogonal is O(n³)) and never draws from the generator. Throws, naming `layer`,
    /// when the shape is too large (`UntrustedLimits.maxElements`) or exceeds what the file can hold.
    func make(_ shape: [Int], for layer: String) throws -> Tensor {
        var noStream: SeededGenerator?
        return try make(shape, for: layer, stream: &noStream, ownStream: false)
    }

    /// `make(_:for:)` drawing from a layer's own generator `stream` (with `ownStream`): it is seeded on
    /// its first use by one draw from the global generator, so each instance gets weights of its own,
    /// `setRandomSeed` reproduces them, and one layer's weights do not shift another's.
    func make(_ shape: [Int], for layer: String, stream: inout SeededGenerator?, ownStream: Bool = true) throws -> Tensor {
        guard let count = UntrustedLimits.elementCount(shape) else {
            throw RecurError.invalidArgument(op: layer, message: "weight of shape \(describeShape(shape)) is too large "
                                             + "(at most \(UntrustedLimits.maxElements) values per weight)")
        }
        if let budget = WeightsFromFile.current {
            try budget.take(count, shape: shape, layer: layer)
            return Tensor.zeros(shape)
        }
        guard ownStream else { return GlobalRandom.shared.draw { make(shape, generator: &$0) } }
        if stream == nil { stream = SeededGenerator(seed: GlobalRandom.shared.draw { $0.next() }) }
        return make(shape, generator: &stream!)
    }
}

/// The weights a model being read from a file may still create: at most what the file's weights
/// can hold (two bytes per value, float16 being the smallest type Keras stores). Set only while
/// `withWeightsFromFile(source:bytes:_:)` builds a model.
final class WeightsFromFile: @unchecked Sendable {
    @TaskLocal static var current: WeightsFromFile?
    let source: String
    private(set) var remaining: Int

    init(source: String, bytes: Int) {
        self.source = source
        self.remaining = bytes / 2
    }

    func take(_ count: Int, shape: [Int], layer: String) throws {
        guard count <= remaining else {
            throw RecurError.io(path: source, message: "layer \(layer) declares a weight of shape \(describeShape(shape)) "
                                + "(\(count) values), more than the file's weights can hold (\(remaining) more values at most): "
                                + "the config does not match the weights")
        }
        remaining -= count
    }

    /// Runs `body` (which builds a model) with weights created as zeros, within the budget of a
    /// weights file of `bytes` bytes.
    static func building<R>(source: String, bytes: Int, _ body: () throws -> R) rethrows -> R {
        try $current.withValue(WeightsFromFile(source: source, bytes: bytes), operation: body)
    }
}

extension Tensor {
    /// Values drawn uniformly from [low, high) by the global generator, so `setRandomSeed` makes
    /// them reproducible.
    public static func randomUniform(shape: [Int], low: Float = 0, high: Float = 1) -> Tensor {
        GlobalRandom.shared.draw { randomUniform(shape, low: low, high: high, generator: &$0) }
    }

    /// Values drawn from N(mean, stddev²) by the global generator (`setRandomSeed`).
    public static func randomNormal(shape: [Int], mean: Float = 0, stddev: Float = 1) -> Tensor {
        GlobalRandom.shared.draw { randomNormal(shape, mean: mean, stddev: stddev, generator: &$0) }
    }
}
