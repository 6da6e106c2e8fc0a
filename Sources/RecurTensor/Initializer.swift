import Foundation

/// Keras's weight initializers, by the names Keras uses in configs.
public enum Initializer: Sendable, Equatable {
    case zeros
    case ones
    /// U(−limit, limit) with limit = √(6 / (fanIn + fanOut)).
    case glorotUniform
    /// A (semi-)orthogonal matrix from the QR decomposition of a normal matrix, times `gain`.
    case orthogonal(gain: Float = 1)
    /// U(minval, maxval); Keras's "uniform" is U(−0.05, 0.05).
    case uniform(min: Float = -0.05, max: Float = 0.05)
    case constant(Float)

    /// The Keras config name ("glorot_uniform", ...).
    public var kerasName: String {
        switch self {
        case .zeros: return "zeros"
        case .ones: return "ones"
        case .glorotUniform: return "glorot_uniform"
        case .orthogonal: return "orthogonal"
        case .uniform: return "random_uniform"
        case .constant: return "constant"
        }
    }

    /// Draws a tensor of `shape`. Fans follow Keras: for rank ≥ 2 the receptive field is the product
    /// of all but the last two dimensions, fanIn = shape[-2]·field, fanOut = shape[-1]·field.
    public func make(_ shape: [Int], generator: inout SeededGenerator) -> Tensor {
        switch self {
        case .zeros: return Tensor.zeros(shape)
        case .ones: return Tensor.ones(shape)
        case .constant(let v): return Tensor(repeating: v, shape: shape)
        case let .uniform(low, high): return Tensor.randomUniform(shape, low: low, high: high, generator: &generator)
        case .glorotUniform:
            let (fanIn, fanOut) = Initializer.fans(shape)
            let limit = Float((6.0 / Double(Swift.max(1, fanIn + fanOut))).squareRoot())
            return Tensor.randomUniform(shape, low: -limit, high: limit, generator: &generator)
        case .orthogonal(let gain):
            return Initializer.orthogonalMatrix(shape, gain: gain, generator: &generator)
        }
    }

    static func fans(_ shape: [Int]) -> (Int, Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        default:
            let field = shape.dropLast(2).reduce(1, *)
            return (shape[shape.count - 2] * field, shape[shape.count - 1] * field)
        }
    }

    /// Keras's orthogonal initializer: flatten to (rows = Π shape[:-1], cols = shape[-1]), take a normal
    /// matrix of shape (max, min), orthonormalise its columns (QR with the signs of R's diagonal made
    /// positive, done here by modified Gram–Schmidt in Float64), transpose when rows < cols.
    static func orthogonalMatrix(_ shape: [Int], gain: Float, generator: inout SeededGenerator) -> Tensor {
        guard shape.count >= 2 else { return Tensor.randomNormal(shape, generator: &generator) }
        let cols = shape[shape.count - 1], rows = shape.dropLast().reduce(1, *)
        let (tall, short) = (Swift.max(rows, cols), Swift.min(rows, cols))
        // q holds `short` columns of length `tall`, column after column, orthonormalised in place.
        var q = [Double](repeating: 0, count: tall * short)
        for i in q.indices { q[i] = Double(generator.nextNormal()) }
        q.withUnsafeMutableBufferPointer { q in
            for j in 0..<short {
                let cj = q.baseAddress! + j * tall
                for p in 0..<j {
                    let cp = q.baseAddress! + p * tall
                    var dot = 0.0
                    for i in 0..<tall { dot += cp[i] * cj[i] }
                    for i in 0..<tall { cj[i] -= dot * cp[i] }
                }
                var norm = 0.0
                for i in 0..<tall { norm += cj[i] * cj[i] }
                norm = norm.squareRoot()
                for i in 0..<tall { cj[i] /= norm }
            }
        }
        let t = Tensor(uninitializedShape: shape)
        for r in 0..<rows {
            for c in 0..<cols {
                let v = rows >= cols ? q[c * tall + r] : q[r * tall + c]
                t.base[r * cols + c] = gain * Float(v)
            }
        }
        return t
    }
}
