/// Keras's dot-product attention (Luong style), called on `[query, value]` or `[query, value, key]`:
/// query (batch, Tq, dim), value (batch, Tv, dv), key (batch, Tv, dim), key = value when absent.
///
///     scores  = query · keyᵀ                                  (batch, Tq, Tv)   scoreMode .dot
///             = c · Σ_d tanh(s · (query[:, i] + key[:, j]))                      scoreMode .concat
///     scores  −= 10⁹ where the value's mask (and, with `useCausalMask`, j > i) hides step j
///     weights = softmax(scores) over Tv (dropout in training)
///     output  = weights · value, zero at steps the query's mask hides   (batch, Tq, dv)
///
/// s (`scale`, with `useScale`; .dot multiplies the scores by it) and c (`concat_score_weight`,
/// .concat) are learned scalars starting at 1. With `returnAttentionScores` the weights are a second
/// output. The output keeps the query's mask. Keras's call arguments `use_causal_mask` and
/// `return_attention_scores` are options here, read from and written to a file's calls.
open class Attention: Layer {
    public enum ScoreMode: String, Sendable { case dot, concat }

    public let useScale: Bool
    public let scoreMode: ScoreMode
    public let dropout: Float
    /// Keras's call arguments `use_causal_mask` and `return_attention_scores`, options here.
    var callOptions: AttentionCallOptions
    public var useCausalMask: Bool { callOptions.useCausalMask }
    public var returnAttentionScores: Bool { callOptions.returnAttentionScores }
    public internal(set) var scale: Variable?
    public private(set) var concatScoreWeight: Variable?

    public init(useScale: Bool = false, scoreMode: ScoreMode = .dot, dropout: Float = 0, useCausalMask: Bool = false,
                returnAttentionScores: Bool = false, name: String? = nil) {
        (self.useScale, self.scoreMode, self.dropout) = (useScale, scoreMode, dropout)
        callOptions = AttentionCallOptions(useCausalMask: useCausalMask, returnAttentionScores: returnAttentionScores)
        super.init(name: name)
    }

    public override var variables: [Variable] { [scale, concatScoreWeight].compactMap { $0 } }

    /// The query, value and key shapes, checked: rank 3, the same batch, the key's Tv the value's and
    /// its last dimension the query's (known ones).
    func checkedShapes(_ shapes: [[Int?]]) throws -> (query: [Int?], value: [Int?], key: [Int?]) {
        let (q, v, k) = try attentionInputShapes(shapes, of: self)
        if knownAndDifferent(k[1], v[1]) || knownAndDifferent(q[2], k[2]) || knownAndDifferent(q[0], v[0]) || knownAndDifferent(k[0], v[0]) {
            throw RecurError.shapeMismatch(errorSubject, expected: "query (batch, Tq, dim), value (batch, Tv, dv) and key (batch, Tv, dim)",
                                           actual: shapes.map(describeShape).joined(separator: ", "))
        }
        return (q, v, k)
    }

    public override func build(inputShapes: [[Int?]]) throws {
        _ = try checkedShapes(inputShapes)
        guard dropout >= 0, dropout < 1 else { throw RecurError.invalidArgument(errorSubject, "dropout must be in [0, 1), got \(dropout)") }
        if useScale { scale = Variable(name: "scale", value: Tensor(1)) }
        if scoreMode == .concat { concatScoreWeight = Variable(name: "concat_score_weight", value: Tensor(1)) }
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let (q, v, k) = try checkedShapes(inputShapes)
        return [[q[0], q[1], v[2]]] + (returnAttentionScores ? [[q[0], q[1], k[1]]] : [])
    }

    /// The scores (batch, Tq, Tv) of query (batch, Tq, dim) against key (batch, Tv, dim).
    func scores(query: Tensor, key: Tensor) throws -> Tensor {
        switch scoreMode {
        case .dot:
            let scores = try query.matmul(key, transposingOther: true)
            return try scale.map { try scores * $0.value } ?? scores
        case .concat:
            var sum = try query.expandingDimensions(at: 2) + key.expandingDimensions(at: 1)
            if let scale { sum = try sum * scale.value }
            return try sum.tanh().sum(alongAxis: -1) * concatScoreWeight!.value
        }
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let xs = input.tensors
        let (_, v, _) = try checkedShapes(xs.map { $0.shape.map(Optional.some) })
        let (query, value) = (xs[0], xs[1]), key = xs.count == 3 ? xs[2] : xs[1]
        guard v[0] == query.shape[0] else {
            throw RecurError.shapeMismatch(errorSubject, expected: "query and value of the same batch", actual: "\(query.shape[0]) and \(value.shape[0])")
        }
        let (tq, tv) = (query.shape[1], key.shape[1])
        // Concat and additive scores pass through (batch, Tq, Tv, dim) before the sum over dim.
        let largest = [query.shape[0], tq, tv] + (scoreMode == .concat ? [query.shape[2]] : [])
        guard UntrustedLimits.elementCount(largest.map { Swift.max($0, 1) }) != nil else {
            throw RecurError.invalidArgument(errorSubject, "its scores \(describeShape(largest)) would hold more than \(UntrustedLimits.maxElements) values")
        }
        var scores = try self.scores(query: query, key: key)
        // 1 where step j of the value may be attended to from step i of the query, (batch or 1, Tq or 1, Tv).
        var visible: Tensor?
        if let valueMask = input.masks.count > 1 ? input.masks[1] : nil {
            visible = try valueMask.reshaped(to: [valueMask.shape[0], 1, tv])
        }
        if useCausalMask {
            let causal = try Tensor(shape: [1, tq, tv], scalars: (0..<tq).flatMap { i in (0..<tv).map { j in j <= i ? Float(1) : 0 } })
            visible = try visible.map { try $0 * causal } ?? causal
        }
        if let visible { scores = try scores - (1 - visible) * 1e9 }
        var weights = try scores.softmax()
        if input.training, dropout > 0 { weights = try weights * dropoutKeepMask(shape: weights.shape, rate: dropout, on: weights.device) }
        var output = try weights.matmul(value)
        let queryMask = input.masks.first ?? nil
        if let queryMask { output = try output * queryMask.reshaped(to: [queryMask.shape[0], tq, 1]) }
        return LayerOutput([output] + (returnAttentionScores ? [weights] : []), mask: queryMask)
    }

    public override var supportsMasking: Bool { true }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["use_scale": .bool(useScale), "score_mode": .string(scoreMode.rawValue), "dropout": KerasValue.number(dropout), "seed": .null]
    }

    public override var kerasCallArguments: [String: JSONValue] { callOptions.kerasCallArguments }

    public override func readKerasCallArgument(_ key: String, _ value: JSONValue) throws -> Bool {
        try callOptions.read(key, value, of: self)
    }

    open override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        let modeName = a.value("score_mode")?.string ?? "dot"
        guard let mode = ScoreMode(rawValue: modeName) else { throw a.invalid("'score_mode' must be \"dot\" or \"concat\", got \"\(modeName)\"") }
        return Attention(useScale: try a.bool("use_scale", default: false), scoreMode: mode, dropout: try a.rate("dropout"), name: a.name)
    }
}

/// Keras's additive attention (Bahdanau style): `Attention` with scores
/// Σ_d s_d · tanh(query[:, i, d] + key[:, j, d]), s (`scale`, dim) learned with `useScale` (Glorot
/// uniform at first), else 1.
public final class AdditiveAttention: Attention {
    public init(useScale: Bool = true, dropout: Float = 0, useCausalMask: Bool = false, returnAttentionScores: Bool = false, name: String? = nil) {
        super.init(useScale: useScale, scoreMode: .concat, dropout: dropout, useCausalMask: useCausalMask,
                   returnAttentionScores: returnAttentionScores, name: name)
    }

    public override var variables: [Variable] { scale.map { [$0] } ?? [] }

    public override func build(inputShapes: [[Int?]]) throws {
        let (q, _, _) = try checkedShapes(inputShapes)
        guard dropout >= 0, dropout < 1 else { throw RecurError.invalidArgument(errorSubject, "dropout must be in [0, 1), got \(dropout)") }
        guard useScale else { return }
        scale = Variable(name: "scale", value: try Initializer.glorotUniform.make([try knownLastDimension(q, of: self)], for: name))
    }

    override func scores(query: Tensor, key: Tensor) throws -> Tensor {
        let sum = try (query.expandingDimensions(at: 2) + key.expandingDimensions(at: 1)).tanh()
        return try (scale.map { try sum * $0.value } ?? sum).sum(alongAxis: -1)
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["use_scale": .bool(useScale), "dropout": KerasValue.number(dropout), "seed": .null]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        AdditiveAttention(useScale: try a.bool("use_scale", default: true), dropout: try a.rate("dropout"), name: a.name)
    }
}

/// The call arguments of Keras's attention layers that Recur keeps as options of the layer:
/// `use_causal_mask` and `return_attention_scores`.
struct AttentionCallOptions {
    var useCausalMask: Bool
    var returnAttentionScores: Bool

    var kerasCallArguments: [String: JSONValue] {
        ["use_causal_mask": .bool(useCausalMask), "return_attention_scores": .bool(returnAttentionScores)]
    }

    /// Takes `key` from a file's call of `layer`; false for other arguments. Every call of the layer
    /// must pass the same values (they are options of the layer here).
    mutating func read(_ key: String, _ value: JSONValue, of layer: Layer) throws -> Bool {
        guard key == "use_causal_mask" || key == "return_attention_scores" else { return false }
        guard let flag = value.bool else { throw RecurError.invalidArgument(layer.errorSubject, "call argument \(key) must be true or false") }
        let current = key == "use_causal_mask" ? useCausalMask : returnAttentionScores
        if layer.isBuilt && flag != current {
            throw RecurError.unsupported(op: "\(layer.className) '\(layer.name)'", message: "calls with different \(key) (one value for every call of the layer)")
        }
        if key == "use_causal_mask" { useCausalMask = flag } else { returnAttentionScores = flag }
        return true
    }
}

/// The query, value and key shapes of an attention layer called on `[query, value]` or
/// `[query, value, key]` (key = value when absent), each checked to be of rank 3.
func attentionInputShapes(_ shapes: [[Int?]], of layer: Layer) throws -> (query: [Int?], value: [Int?], key: [Int?]) {
    guard shapes.count == 2 || shapes.count == 3 else {
        throw RecurError.invalidArgument(layer.errorSubject, "takes [query, value] or [query, value, key], got \(shapes.count) inputs")
    }
    for s in shapes { try requireRank(s, 3, of: layer) }
    return (shapes[0], shapes[1], shapes.count == 3 ? shapes[2] : shapes[1])
}

/// Whether two dimensions are both known and differ.
func knownAndDifferent(_ a: Int?, _ b: Int?) -> Bool { a != nil && b != nil && a != b }
