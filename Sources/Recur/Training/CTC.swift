/// Keras's `CTC` loss (connectionist temporal classification), for a model that reads a sequence and
/// writes a shorter one without an alignment between them (speech, handwriting), as Keras computes it
/// (`keras.losses.ctc`, the optax formulation).
///
/// y_true (batch, N): class ids, 0 the blank, which also pads a label after its end (a label's length
/// is its count of non-zero ids). y_pred (batch, T, K): logits, every one of the T steps counted. A
/// sample's loss is −log p(label | logits): the probability, under the log-softmax of its logits, of
/// every path over the T steps that reads as the label once repeats are merged and blanks dropped.
/// It is computed in log space by the forward recursion over the label's states — "blank before
/// label position n" (φ, n = 0…N) and "emitting label position n" (e, n = 1…N):
///
///     φ′ₙ = logaddexp(φₙ, eₙ + (label n repeats label n+1 ? log 0 : 0))   (leaving e for the blank)
///     eₙ ← logaddexp(φ′ₙ₋₁ + emit, eₙ + emit)                              (entering or staying)
///     φₙ ← logaddexp(φ′ₙ + blank, eₙ + blank + (repeat ? 0 : log 0))
///
/// with Keras's −10⁵ for log 0, and after the last step loss = −logaddexp(φ_L, e_L) for a label of
/// length L. Gradients flow by autodiff through the recursion.
public struct CTC: Loss, Sendable {
    /// Keras's stand-in for log 0.
    static let logZero: Float = -1e5

    public init() {}
    public var name: String { "ctc" }

    /// Class ids, as many per sample as the longest label: the steps for want of a better guess.
    public func targetShape(forPredictions shape: [Int]) -> [Int] { Array(shape.prefix(2)) }

    public func perSample(_ yTrue: Tensor, _ yPred: Tensor) throws -> Tensor {
        guard yTrue.rank == 2, yPred.rank == 3, yTrue.shape[0] == yPred.shape[0] else {
            throw RecurError.shapeMismatch(op: "CTC", expected: "class ids (batch, label length) for logits (batch, steps, classes) of shape "
                                           + describeShape(yPred.shape), actual: describeShape(yTrue.shape))
        }
        let (batch, steps, classes, width) = (yPred.shape[0], yPred.shape[1], yPred.shape[2], yTrue.shape[1])
        let labels = try yTrue.detached.scalars.map { id -> Int in
            guard id.rounded() == id, id >= 0, id < Float(classes) else {
                throw RecurError.invalidArgument(op: "CTC", message: "class ids must be whole numbers in 0..<\(classes) (0 the blank), got \(id)")
            }
            return Int(id)
        }
        let logProbabilities = try yPred.logSoftmax()
        let blank = try logProbabilities.slice(alongAxis: 2, 0..<1)                                   // (batch, T, 1)
        let lengths = (0..<batch).map { b in labels[(b * width)..<((b + 1) * width)].filter { $0 != 0 }.count }
        // Picks the final φ or e of each label's length, and reads the emitted ids' scores.
        let atLength = try Tensor(shape: [batch, width + 1], scalars: (0..<batch).flatMap { b in (0...width).map { Float($0 == lengths[b] ? 1 : 0) } })
        guard width > 0 else { return try -(blank.sum(alongAxis: 1).reshaped(to: [batch])) }
        var oneHot = [Float](repeating: 0, count: batch * width * classes)
        for (i, id) in labels.enumerated() { oneHot[i * classes + id] = 1 }
        let emitted = try logProbabilities.matmul(Tensor(shape: [batch, width, classes], scalars: oneHot), transposingOther: true)  // (batch, T, N)
        let repeats = try Tensor(shape: [batch, width], scalars: (0..<batch).flatMap { b in
            (0..<width).map { n in Float(n + 1 < width && labels[b * width + n] == labels[b * width + n + 1] ? 1 : 0) }
        })
        let repeatBlocked = repeats * Self.logZero, changeBlocked = (1 - repeats) * Self.logZero
        var phi = try Tensor(shape: [batch, width + 1], scalars: (0..<batch).flatMap { _ in [0] + Array(repeating: Self.logZero, count: width) })
        var emit = Tensor(repeating: Self.logZero, shape: [batch, width])
        for t in 0..<steps {
            let scores = try emitted.select(alongAxis: 1, index: t), blankScore = try blank.select(alongAxis: 1, index: t)
            let leaving = try Self.addingToLabelStates(phi, try emit + repeatBlocked)
            let nextEmit = try Self.logAddExp(try leaving.slice(alongAxis: 1, 0..<width) + scores, try emit + scores)
            phi = try Self.addingToLabelStates(try leaving + blankScore, try emit + blankScore + changeBlocked)
            emit = nextEmit
        }
        return try -(Self.addingToLabelStates(phi, emit) * atLength).sum(alongAxis: 1)
    }

    /// φ with logaddexp(φₙ, addedₙ₋₁) at positions n = 1…N.
    private static func addingToLabelStates(_ phi: Tensor, _ added: Tensor) throws -> Tensor {
        let width = phi.shape[1] - 1
        return try Tensor.concatenate([phi.slice(alongAxis: 1, 0..<1), logAddExp(phi.slice(alongAxis: 1, 1..<(width + 1)), added)], alongAxis: 1)
    }

    /// log(eᵃ + eᵇ) as JAX's `logaddexp` computes it, value and gradient, so that the rounding at
    /// Keras's −10⁵ (where float32 keeps 3 bits after the point) is the same: the value
    /// max(a, b) + log(1 + e^−|a − b|), the gradients e^(a − value) and e^(b − value). The second
    /// term adds those gradients and exactly 0 to the value.
    private static func logAddExp(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let (heldA, heldB) = (a.detached, b.detached)
        let value = try heldA.maximum(heldB) + (1 + (-(heldA - heldB).abs()).exp()).log()
        let slopes = try (a - value).exp() + (b - value).exp()
        return try value + (slopes - slopes.detached)
    }
}
