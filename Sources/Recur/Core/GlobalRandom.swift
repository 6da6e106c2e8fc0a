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

    /// Runs `body` with exclusive use of the generator.
    func draw<R>(_ body: (inout SeededGenerator) -> R) -> R {
        lock.lock(); defer { lock.unlock() }
        return body(&generator)
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
    /// Draws from the global generator.
    func make(_ shape: [Int]) -> Tensor {
        GlobalRandom.shared.draw { make(shape, generator: &$0) }
    }
}
