import Recur

/// Keras's `MinimalRNNCell` (the example of the `RNN` layer's documentation), written with public API
/// only — the custom-cell tutorial:
///   h = tanh(x·W + h₋₁·U)
/// State and output (batch, units); weights made with `addWeight`, so they train, save and load and
/// are drawn from the global seed.
public final class MinimalRNNCell: RecurrentCell {
    public let units: Int
    private var kernel: Variable?
    private var recurrentKernel: Variable?

    public init(units: Int, name: String? = nil) {
        self.units = units
        super.init(name: name)
    }

    public override var stateShapes: [[Int]] { [[units]] }
    public override var outputShapes: [[Int]] { [[units]] }

    public override func build(inputShapes: [[Int?]]) throws {
        let features = try knownLastDimension(inputShapes[0], layer: name)
        kernel = try addWeight(name: "kernel", shape: [features, units], initializer: .uniform())
        recurrentKernel = try addWeight(name: "recurrent_kernel", shape: [units, units], initializer: .uniform())
    }

    public override func step(_ inputs: [Tensor], states: [Tensor], training: Bool) throws -> (outputs: [Tensor], states: [Tensor]) {
        let h = try (inputs[0].matmul(kernel!.value) + states[0].matmul(recurrentKernel!.value)).tanh()
        return ([h], [h])
    }
}
