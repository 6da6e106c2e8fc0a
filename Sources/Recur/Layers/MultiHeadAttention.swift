/// Keras's `MultiHeadAttention` on sequences, called on `[query, value]` or `[query, value, key]`:
/// query (batch, T, dq), value (batch, S, dv), key (batch, S, dk), key = value when absent. With N
/// heads of `keyDim` (H) and `valueDim` (Hv) each:
///
///     q = query · Wq + bq, k = key · Wk + bk           (batch, T or S, N, H)    Wq (dq, N, H), bq (N, H)
///     v = value · Wv + bv                               (batch, S, N, Hv)
///     scores  = (q / √H) · kᵀ per head                  (batch, N, T, S)
///     weights = softmax over S, hidden steps taking −10⁹ first; dropout in training. A query step
///               that sees no step attends to every step alike (1/S each), as in Keras's fused
///               `dot_product_attention`; with dropout > 0 or the scores returned, Keras takes its
///               `Softmax`-layer path, which gives such a step zeros, and so does Recur
///     output  = (weights · v, heads side by side) · Wo + bo   (batch, T, O)      Wo (N, Hv, O), bo (O)
///
/// What a step may see: the value's (and key's) mask hides steps of S, the query's mask hides steps
/// of T, `useCausalMask` hides j > i and `slidingWindow` w hides |i − j| ≥ w. O is `outputDim`, by
/// default dq. With `returnAttentionScores` the weights (before dropout) are a second output. The
/// output keeps the query's mask. Keras's attention over other axes, `use_gate` and an explicit
/// `attention_mask` tensor are not supported (refused when a file asks for them).
public final class MultiHeadAttention: Layer {
    public let numHeads: Int
    public let keyDim: Int
    public let valueDim: Int
    public let dropout: Float
    public let useBias: Bool
    /// The output's last dimension (Keras's `output_shape`); nil: the query's.
    public let outputDim: Int?
    public let slidingWindow: Int?
    /// Keras's call arguments `use_causal_mask` and `return_attention_scores`, options here.
    var callOptions: AttentionCallOptions
    public var useCausalMask: Bool { callOptions.useCausalMask }
    public var returnAttentionScores: Bool { callOptions.returnAttentionScores }
    public let kernelInitializer: Initializer
    public let biasInitializer: Initializer

    /// One projection's kernel and bias, with the name of the group Keras saves them in.
    public struct Projection {
        public let kernel: Variable
        public let bias: Variable?
        /// The attribute Keras saves the projection under (`query_dense`) and its layer's name (`query`).
        let group: String, kerasName: String
        var variables: [Variable] { [kernel] + (bias.map { [$0] } ?? []) }
    }

    public private(set) var query: Projection?
    public private(set) var key: Projection?
    public private(set) var value: Projection?
    public private(set) var output: Projection?

    public init(numHeads: Int, keyDim: Int, valueDim: Int? = nil, dropout: Float = 0, useBias: Bool = true, outputDim: Int? = nil,
                useCausalMask: Bool = false, slidingWindow: Int? = nil, returnAttentionScores: Bool = false,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String? = nil) {
        (self.numHeads, self.keyDim, self.valueDim) = (numHeads, keyDim, valueDim ?? keyDim)
        (self.dropout, self.useBias, self.outputDim, self.slidingWindow) = (dropout, useBias, outputDim, slidingWindow)
        callOptions = AttentionCallOptions(useCausalMask: useCausalMask, returnAttentionScores: returnAttentionScores)
        (self.kernelInitializer, self.biasInitializer) = (kernelInitializer, biasInitializer)
        super.init(name: name)
    }

    /// The projections in Keras's order: query, key, value, output.
    public var projections: [Projection] { [query, key, value, output].compactMap { $0 } }

    public override var variables: [Variable] { projections.flatMap(\.variables) }

    public override var supportsMasking: Bool { true }

    /// The query, value and key shapes, checked: rank 3, one batch, the key's S the value's.
    func checkedShapes(_ shapes: [[Int?]]) throws -> (query: [Int?], value: [Int?], key: [Int?]) {
        let (q, v, k) = try attentionInputShapes(shapes, of: self)
        if knownAndDifferent(k[1], v[1]) || knownAndDifferent(q[0], v[0]) || knownAndDifferent(k[0], v[0]) {
            throw RecurError.shapeMismatch(errorSubject, expected: "query (batch, T, dq), value (batch, S, dv) and key (batch, S, dk)",
                                           actual: shapes.map(describeShape).joined(separator: ", "))
        }
        return (q, v, k)
    }

    public override func build(inputShapes: [[Int?]]) throws {
        let (q, v, k) = try checkedShapes(inputShapes)
        for (label, count) in [("numHeads", numHeads), ("keyDim", keyDim), ("valueDim", valueDim), ("outputDim", outputDim ?? 1),
                               ("slidingWindow", slidingWindow ?? 1)] where count < 1 || count > UntrustedLimits.maxUnits {
            throw RecurError.invalidArgument(errorSubject, "\(label) must be in 1...\(UntrustedLimits.maxUnits), got \(count)")
        }
        guard dropout >= 0, dropout < 1 else { throw RecurError.invalidArgument(errorSubject, "dropout must be in [0, 1), got \(dropout)") }
        let (dq, dv, dk) = (try knownLastDimension(q, of: self), try knownLastDimension(v, of: self), try knownLastDimension(k, of: self))
        func projection(_ group: String, _ kerasName: String, kernel: [Int], bias: [Int]) throws -> Projection {
            guard UntrustedLimits.elementCount(kernel) != nil else {
                throw RecurError.invalidArgument(errorSubject, "its \(kerasName) kernel \(describeShape(kernel)) would hold more than \(UntrustedLimits.maxElements) values")
            }
            return Projection(kernel: Variable(name: "kernel", value: try kernelInitializer.make(kernel, for: name)),
                              bias: useBias ? Variable(name: "bias", value: try biasInitializer.make(bias, for: name)) : nil,
                              group: group, kerasName: kerasName)
        }
        let heads = numHeads, o = outputDim ?? dq
        query = try projection("query_dense", "query", kernel: [dq, heads, keyDim], bias: [heads, keyDim])
        key = try projection("key_dense", "key", kernel: [dk, heads, keyDim], bias: [heads, keyDim])
        value = try projection("value_dense", "value", kernel: [dv, heads, valueDim], bias: [heads, valueDim])
        output = try projection("output_dense", "attention_output", kernel: [heads, valueDim, o], bias: [o])
    }

    public override func outputShapes(inputShapes: [[Int?]], initialStateShapes: [[Int?]]) throws -> [[Int?]] {
        let (q, _, k) = try checkedShapes(inputShapes)
        return [[q[0], q[1], outputDim ?? q[2]]] + (returnAttentionScores ? [[q[0], numHeads, q[1], k[1]]] : [])
    }

    /// x (batch, steps, d) · kernel (d, N, width) + bias → (batch·N, steps, width), heads before steps.
    private func heads(_ x: Tensor, _ p: Projection) throws -> Tensor {
        let (b, steps, width) = (x.shape[0], x.shape[1], p.kernel.shape[2])
        guard x.shape[2] == p.kernel.shape[0] else {
            throw RecurError.shapeMismatch(errorSubject, expected: "an input of last dimension \(p.kernel.shape[0]) for its \(p.kerasName) projection",
                                           actual: describeShape(x.shape))
        }
        var y = try x.matmul(p.kernel.value.reshaped(to: [p.kernel.shape[0], numHeads * width]))
        if let bias = p.bias { y = try y + bias.value.reshaped(to: [numHeads * width]) }
        return try y.reshaped(to: [b, steps, numHeads, width]).transposed([0, 2, 1, 3]).reshaped(to: [b * numHeads, steps, width])
    }

    /// 1 where query step i may see step j, (batch or 1, T or 1, S or 1); nil when every step sees every step.
    private func visibility(_ input: LayerInput, t: Int, s: Int) throws -> Tensor? {
        var visible: Tensor?
        func and(_ m: Tensor) throws { visible = try visible.map { try $0 * m } ?? m }
        let masks = input.masks
        if let queryMask = masks.first ?? nil { try and(queryMask.reshaped(to: [queryMask.shape[0], t, 1])) }
        for k in 1..<masks.count { if let m = masks[k] { try and(m.reshaped(to: [m.shape[0], 1, s])) } }
        if useCausalMask || slidingWindow != nil {
            let window = slidingWindow ?? Int.max
            let band = (0..<t).flatMap { i in (0..<s).map { j in (!useCausalMask || j <= i) && abs(i - j) < window ? Float(1) : 0 } }
            try and(Tensor(shape: [1, t, s], scalars: band))
        }
        return visible
    }

    public override func call(_ input: LayerInput) throws -> LayerOutput {
        let xs = input.tensors
        _ = try checkedShapes(xs.map { $0.shape.map(Optional.some) })
        let (queryIn, valueIn) = (xs[0], xs[1]), keyIn = xs.count == 3 ? xs[2] : xs[1]
        guard let query, let key, let value, let output else {
            throw RecurError.invalidArgument(errorSubject, "the layer is not built")
        }
        let (b, t, s) = (queryIn.shape[0], queryIn.shape[1], keyIn.shape[1])
        guard valueIn.shape[0] == b, keyIn.shape[0] == b else {
            throw RecurError.shapeMismatch(errorSubject, expected: "query, value and key of one batch",
                                           actual: xs.map { describeShape($0.shape) }.joined(separator: ", "))
        }
        guard UntrustedLimits.elementCount([b, numHeads, t, s].map { Swift.max($0, 1) }) != nil else {
            throw RecurError.invalidArgument(errorSubject, "its scores \(describeShape([b, numHeads, t, s])) would hold more than \(UntrustedLimits.maxElements) values")
        }
        let q = try heads(queryIn, query) * Tensor(1 / Float(keyDim).squareRoot())
        let scores = try q.matmul(heads(keyIn, key), transposingOther: true).reshaped(to: [b, numHeads, t, s])
        var weights: Tensor
        if let visible = try visibility(input, t: t, s: s) {
            let keep = try visible.reshaped(to: [visible.shape[0], 1, visible.shape[1], visible.shape[2]]).greater(Tensor(0.5))
            weights = try Tensor.select(keep, scores, Tensor(-1e9)).softmax()
            if dropout > 0 || returnAttentionScores { weights = try Tensor.select(keep, weights, Tensor(0)) }
        } else {
            weights = try scores.softmax()
        }
        let returnedWeights = weights
        if input.training, dropout > 0 { weights = try weights * dropoutKeepMask(shape: weights.shape, rate: dropout, on: weights.device) }
        let context = try weights.reshaped(to: [b * numHeads, t, s]).matmul(heads(valueIn, value))
        let joined = try context.reshaped(to: [b, numHeads, t, valueDim]).transposed([0, 2, 1, 3]).reshaped(to: [b, t, numHeads * valueDim])
        let o = output.kernel.shape[2]
        var y = try joined.matmul(output.kernel.value.reshaped(to: [numHeads * valueDim, o]))
        if let bias = output.bias { y = try y + bias.value }
        return LayerOutput([y] + (returnAttentionScores ? [returnedWeights] : []), mask: input.masks.first ?? nil)
    }

    // MARK: - Keras

    public override class var kerasInputParameters: (names: [String], positional: Int)? { (["query", "value", "key"], 2) }

    public override var kerasCallArguments: [String: JSONValue] { callOptions.kerasCallArguments }

    public override func readKerasCallArgument(_ key: String, _ value: JSONValue) throws -> Bool {
        try callOptions.read(key, value, of: self)
    }

    public override func kerasConfig() throws -> [String: JSONValue] {
        ["num_heads": KerasValue.number(numHeads), "key_dim": KerasValue.number(keyDim), "value_dim": KerasValue.number(valueDim),
         "dropout": KerasValue.number(dropout), "use_bias": .bool(useBias), "use_gate": .bool(false),
         "output_shape": outputDim.map { KerasValue.ints([$0]) } ?? .null, "attention_axes": KerasValue.ints([1]),
         "sliding_window": slidingWindow.map { KerasValue.number($0) } ?? .null,
         "kernel_initializer": KerasValue.initializer(kernelInitializer), "bias_initializer": KerasValue.initializer(biasInitializer),
         "seed": .null]
    }

    public override class func fromKerasConfig(_ a: KerasArguments) throws -> Layer {
        a.ignore(["flash_attention"])
        // Attention over the steps is axis 1 of the projected (batch, steps, heads, width), also -3.
        if let axes = a.value("attention_axes"), !axes.isNull {
            let list = axes.array ?? [axes]
            guard list.count == 1, let axis = list[0].int, axis == 1 || axis == -3 else {
                throw RecurError.unsupported(op: a.layer, message: "attention_axes=\(KerasConfig.compactJSON(axes)) (attention over the steps, axis 1, only)")
            }
        }
        var outputDim: Int?
        if let shape = a.value("output_shape"), !shape.isNull {
            let list = shape.array ?? [shape]
            guard list.count == 1, let o = list[0].int, (1...UntrustedLimits.maxUnits).contains(o) else {
                throw RecurError.unsupported(op: a.layer, message: "output_shape=\(KerasConfig.compactJSON(shape)) (one positive size, the output's last dimension)")
            }
            outputDim = o
        }
        let dropout = try a.rate("dropout")
        guard dropout < 1 else { throw a.invalid("'dropout' must be in [0, 1), got \(dropout)") }
        return MultiHeadAttention(numHeads: try a.width("num_heads"), keyDim: try a.width("key_dim"),
                                  valueDim: try a.optionalWidth("value_dim"),
                                  dropout: dropout, useBias: try a.bool("use_bias", default: true), outputDim: outputDim,
                                  slidingWindow: try a.optionalWidth("sliding_window"),
                                  kernelInitializer: try a.initializer("kernel_initializer", default: .glorotUniform),
                                  biasInitializer: try a.initializer("bias_initializer", default: .zeros), name: a.name)
    }
}
