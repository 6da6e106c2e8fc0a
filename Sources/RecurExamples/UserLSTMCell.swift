import Recur

/// An LSTM cell as a user writes one, from public ops only — the reference for how fast a custom cell
/// runs in `RNN(cell)`'s loop:
///   z = x·W + h₋₁·U + b, [i, f, g, o] = split(z), c = σ(f) ⊙ c₋₁ + σ(i) ⊙ tanh(g), h = σ(o) ⊙ tanh(c)
/// Its weights are `LSTMCell`'s (names, shapes, order and initializers: Glorot-uniform W, orthogonal U,
/// zero bias with the forget gate's at 1), so an `LSTM`'s weights load into `RNN(UserLSTMCell(u))`.
public final class UserLSTMCell: RecurrentCell {
    public let units: Int
    private var kernel: Variable?
    private var recurrentKernel: Variable?
    private var bias: Variable?

    public init(units: Int, name: String? = nil) {
        self.units = units
        super.init(name: name)
    }

    public override var stateShapes: [[Int]] { [[units], [units]] }
    public override var outputShapes: [[Int]] { [[units]] }

    public override func build(inputShapes: [[Int?]]) throws {
        let features = try knownLastDimension(inputShapes[0], layer: name)
        kernel = try addWeight(name: "kernel", shape: [features, 4 * units], initializer: .glorotUniform)
        recurrentKernel = try addWeight(name: "recurrent_kernel", shape: [units, 4 * units], initializer: .orthogonal())
        let bias = try addWeight(name: "bias", shape: [4 * units], initializer: .zeros)
        bias.value = try Tensor.concatenate([Tensor.zeros([units]), Tensor.ones([units]), Tensor.zeros([2 * units])], alongAxis: 0)
        self.bias = bias
    }

    public override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        let z = try inputs[0].matmul(kernel!.value) + states[0].matmul(recurrentKernel!.value) + bias!.value
        let gates = try z.split(sizes: [units, units, units, units], alongAxis: 1)
        let c = try gates[1].sigmoid() * states[1] + gates[0].sigmoid() * gates[2].tanh()
        let h = try gates[3].sigmoid() * c.tanh()
        return ([h], [h, c])
    }
}
