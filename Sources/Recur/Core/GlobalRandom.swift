import Foundation

/// The process-wide seeded generator that layers draw initial weights and dropout masks from,
/// as Keras's global seed. `setRandomSeed(_:)` makes a whole run reproducible.
final class GlobalRandom: @unchecked Sendable {
    static let shared = GlobalRandom()
    private var generator = SeededGenerator(seed: 1337)
    private let lock = NSLock()

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

extension Initializer {
    /// Draws from the global generator.
    func make(_ shape: [Int]) -> Tensor {
        GlobalRandom.shared.draw { make(shape, generator: &$0) }
    }
}
