/// A recurrent layer's Keras weights in cuDNN's RNN weight layout, and back: what a CUDA backend uploads
/// for `cudnnRNNForward` (one layer, one direction, `CUDNN_RNN_DOUBLE_BIAS`) and how it maps the weight
/// gradients back. The tables are in ../shared/GPU.md §5 (from Keras's own cuDNN conversion); the tests
/// prove them on the host by running cuDNN's equations on these matrices against the fused CPU kernels.
///
/// cuDNN's linear layers, in `cudnnGetRNNWeightParams` order (linLayerID), each a row-major matrix — the
/// transpose of a Keras column block, `m[j·D + k] = W[k, g·U + j]` — with its own bias vector:
/// - LSTM: ids 0…3 input (U, D) for gates [i, f, g, o] (Keras's [i, f, c, o]), ids 4…7 recurrent (U, U);
///   Keras's bias goes in the recurrent slots, the input slots hold zeros.
/// - GRU (`resetAfter: true` only): cuDNN's order is [r, z, h′], Keras's [z, r, h]: ids 0…2 input, 3…5
///   recurrent, biases one to one from Keras's (2, 3U) [input; recurrent].
/// - SimpleRNN: id 0 input (U, D) with Keras's bias, id 1 recurrent (U, U) with zeros.
public struct CuDNNWeights {
    public let kind: RecurrenceKind
    /// The matrices in linLayerID order: (U, D) for input layers, (U, U) for recurrent ones.
    public let matrices: [Tensor]
    /// Their bias vectors (U), in the same order.
    public let biases: [Tensor]

    /// cuDNN's layers from Keras weights: kernel (D, gates·U), recurrentKernel (U, gates·U), bias (gates·U),
    /// or (2, 3U) for the GRU. Throws for `.gru(resetAfter: false)`, which cuDNN has no form of.
    public init(kind: RecurrenceKind, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor) throws {
        let units = recurrentKernel.shape.first ?? 0
        let gates = try CuDNNWeights.kerasGates(kind)
        let width = gates.count * units
        guard kernel.rank == 2, kernel.shape[1] == width, recurrentKernel.shape == [units, width],
              bias.shape == kind.biasShape(gateWidth: width) else {
            throw RecurError.shapeMismatch(op: "CuDNNWeights(\(kind))",
                                           expected: "kernel (D, \(width)), recurrent kernel (\(units), \(width)), bias \(describeShape(kind.biasShape(gateWidth: width)))",
                                           actual: "\(describeShape(kernel.shape)), \(describeShape(recurrentKernel.shape)), \(describeShape(bias.shape))")
        }
        func block(_ w: Tensor, _ gate: Int) throws -> Tensor { try w.slice(alongAxis: 1, gate * units..<(gate + 1) * units).transposed() }
        func biasBlock(_ row: Int?, _ gate: Int) throws -> Tensor {
            let vector = try row.map { try bias.select(alongAxis: 0, index: $0) } ?? bias
            return try vector.slice(alongAxis: 0, gate * units..<(gate + 1) * units)
        }
        let zeros = Tensor.zeros([units])
        var matrices = try gates.map { try block(kernel, $0) }
        matrices += try gates.map { try block(recurrentKernel, $0) }
        switch kind {
        case .gru:
            biases = try gates.map { try biasBlock(0, $0) } + gates.map { try biasBlock(1, $0) }
        case .lstm:
            biases = Array(repeating: zeros, count: gates.count) + (try gates.map { try biasBlock(nil, $0) })
        case .simpleRNN:
            biases = [try biasBlock(nil, 0), zeros]
        }
        self.kind = kind
        self.matrices = matrices
    }

    /// Layers in cuDNN's layout, as read from a cuDNN weight space or its gradient: `matrices` and
    /// `biases` in linLayerID order, shapes as above.
    public init(kind: RecurrenceKind, matrices: [Tensor], biases: [Tensor]) throws {
        let layers = 2 * (try CuDNNWeights.kerasGates(kind)).count
        let units = matrices.first?.shape.first ?? 0
        let inputs = matrices.first?.shape.last ?? 0
        guard matrices.count == layers, biases.count == layers,
              matrices.enumerated().allSatisfy({ $1.shape == [units, $0 < layers / 2 ? inputs : units] }),
              biases.allSatisfy({ $0.shape == [units] }) else {
            throw RecurError.shapeMismatch(op: "CuDNNWeights(\(kind))", expected: "\(layers) matrices (U, D) then (U, U) and \(layers) biases (U)",
                                           actual: "matrices \(matrices.map { describeShape($0.shape) }.joined(separator: ", ")); "
                                               + "biases \(biases.map { describeShape($0.shape) }.joined(separator: ", "))")
        }
        self.kind = kind
        self.matrices = matrices
        self.biases = biases
    }

    /// Keras's (kernel, recurrentKernel, bias) from these layers. Where Keras has one bias and cuDNN two
    /// (LSTM, SimpleRNN) it is their sum, b = b_W + b_R: the inverse of `init(kind:kernel:…)`, which
    /// leaves one slot zero, and the rule for weights trained by cuDNN or PyTorch.
    public func kerasWeights() throws -> (kernel: Tensor, recurrentKernel: Tensor, bias: Tensor) {
        try keras(combiningBiases: { try $0 + $1 })
    }

    /// Keras's gradients (dKernel, dRecurrentKernel, dBias) from cuDNN's weight gradients. Both bias slots
    /// of a Keras bias (LSTM, SimpleRNN) receive the same gradient, so Keras's is one slot's, not the sum.
    public func kerasGradients() throws -> (kernel: Tensor, recurrentKernel: Tensor, bias: Tensor) {
        try keras(combiningBiases: { _, recurrent in recurrent })
    }

    private func keras(combiningBiases combine: (Tensor, Tensor) throws -> Tensor) throws -> (kernel: Tensor, recurrentKernel: Tensor, bias: Tensor) {
        let gates = try CuDNNWeights.kerasGates(kind)
        let n = gates.count
        // Keras column block g holds cuDNN layer gates.firstIndex(of: g).
        let order = (0..<n).map { g in gates.firstIndex(of: g)! }
        let kernel = try Tensor.concatenate(order.map { try matrices[$0].transposed() }, alongAxis: 1)
        let recurrent = try Tensor.concatenate(order.map { try matrices[n + $0].transposed() }, alongAxis: 1)
        let input = try Tensor.concatenate(order.map { biases[$0] }, alongAxis: 0)
        let recurrentBias = try Tensor.concatenate(order.map { biases[n + $0] }, alongAxis: 0)
        let bias = kind == .gru(resetAfter: true) ? try Tensor.stack([input, recurrentBias]) : try combine(input, recurrentBias)
        return (kernel, recurrent, bias)
    }

    /// For each cuDNN layer of one side (input or recurrent), the Keras gate column block it takes.
    private static func kerasGates(_ kind: RecurrenceKind) throws -> [Int] {
        switch kind {
        case .simpleRNN: [0]
        case .lstm: [0, 1, 2, 3]
        case .gru(resetAfter: true): [1, 0, 2]
        case .gru(resetAfter: false):
            throw RecurError.unsupported(op: "CuDNNWeights(\(kind))", message: FusedDeclineReason.gruResetBefore.description + ": cuDNN has no such GRU")
        }
    }
}
