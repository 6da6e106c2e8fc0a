import Foundation

/// Hands out Keras-style unique layer names: the first `lstm`, then `lstm_1`, `lstm_2`, ...
/// One registry serves the process (as Keras's global uid counter); `clearSession()` resets it and
/// `withFreshLayerNames` gives code (tests) its own.
public final class LayerNameRegistry: @unchecked Sendable {
    private var counts: [String: Int] = [:]
    private let lock = NSLock()

    public init() {}

    public func uniqueName(_ base: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        let n = counts[base, default: 0]
        counts[base] = n + 1
        return n == 0 ? base : "\(base)_\(n)"
    }

    func reset() {
        lock.lock()
        counts = [:]
        lock.unlock()
    }

    @TaskLocal static var current = LayerNameRegistry()
}

/// Resets automatic layer naming, as `keras.backend.clear_session()`.
public func clearSession() { LayerNameRegistry.current.reset() }

/// Runs `body` with its own layer-name counters, so names start again at `lstm`, `dense`, ...
public func withFreshLayerNames<R>(_ body: () throws -> R) rethrows -> R {
    try LayerNameRegistry.$current.withValue(LayerNameRegistry(), operation: body)
}

/// `SimpleRNN` → `simple_rnn`, `BatchNormalization` → `batch_normalization` (Keras's `to_snake_case`).
func snakeCase(_ name: String) -> String {
    var out = ""
    let chars = Array(name)
    for (i, c) in chars.enumerated() {
        if c.isUppercase && i > 0 && (chars[i - 1].isLowercase || (i + 1 < chars.count && chars[i + 1].isLowercase && chars[i - 1] != "_")) {
            out.append("_")
        }
        out.append(Character(c.lowercased()))
    }
    return out
}
