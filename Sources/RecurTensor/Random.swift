import Foundation

/// A seeded pseudo-random generator (SplitMix64 seeding a xoshiro256**), so every random draw in
/// Recur is reproducible from an explicit seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E3779B97F4A7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The generator's whole state (four words), for saving a run and resuming it exactly.
    public var state: [UInt64] { [s.0, s.1, s.2, s.3] }

    /// A generator continuing from a saved `state`; nil unless it is four words, not all zero.
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        s = (state[0], state[1], state[2], state[3])
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Standard normal (Box–Muller).
    public mutating func nextNormal() -> Float {
        let u1 = Swift.max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float(Foundation.sqrt(-2 * Foundation.log(u1)) * Foundation.cos(2 * Double.pi * u2))
    }
}

extension Tensor {
    /// Scalars drawn uniformly from [low, high), on the host.
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1, generator: inout SeededGenerator) -> Tensor {
        CPUBackend.shared.random(.uniform(low: low, high: high), shape: shape, generator: &generator)
    }

    /// Scalars drawn from N(mean, stddev²), on the host.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, stddev: Float = 1, generator: inout SeededGenerator) -> Tensor {
        CPUBackend.shared.random(.normal(mean: mean, standardDeviation: stddev), shape: shape, generator: &generator)
    }

    /// Scalars from N(mean, stddev²) redrawn until within two standard deviations (Keras's truncated
    /// normal), on the host.
    public static func randomTruncatedNormal(_ shape: [Int], mean: Float = 0, stddev: Float = 1, generator: inout SeededGenerator) -> Tensor {
        CPUBackend.shared.random(.truncatedNormal(mean: mean, standardDeviation: stddev), shape: shape, generator: &generator)
    }

    /// Inverted dropout's keep mask on `device`: each scalar is 0 with probability `rate`, else
    /// 1/(1 − rate), from one uniform draw per scalar.
    public static func dropoutMask(_ shape: [Int], rate: Float, generator: inout SeededGenerator, on device: Device = .cpu) throws -> Tensor {
        let uniform = try Backends.backend(for: device).random(.uniform(low: 0, high: 1), shape: shape, generator: &generator)
        return try uniform.greaterEqual(Tensor(rate)).scaled(by: 1 / (1 - rate))
    }
}
