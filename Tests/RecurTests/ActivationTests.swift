import Foundation
import Testing
@testable import Recur

/// Activations by their Keras names (the values themselves are checked against Keras by the
/// `activation_*` and `rnn_activation_*` layer fixtures).
@Suite("Activations by Keras name")
struct ActivationTests {
    @Test func namesReadAsKerasWritesThem() {
        for activation in Activation.allCases {
            #expect(Activation(kerasName: activation.rawValue) == activation, "\(activation.rawValue)")
        }
        #expect(Activation(kerasName: "swish") == .silu)
        #expect(Activation(kerasName: "hard_swish") == .hardSilu)
        #expect(Activation(kerasName: "sparsemax") == nil)
        #expect(Activation(kerasName: "Gelu") == nil, "names are case-sensitive, as Keras's")
    }

    /// A Keras config with an activation Recur lacks is refused by name, listing the ones it has.
    @Test func anActivationRecurLacksIsNamedInTheError() {
        let message = thrownMessage {
            _ = try KerasLayerRegistry.layer(className: "Dense", config: ["units": .number(2), "activation": .string("sparsemax"), "name": .string("head")])
        }
        #expect(message.contains("head") && message.contains("sparsemax") && message.contains("gelu"), "\(message)")
    }

    /// Every activation on a Dense layer and on an LSTM's two activations survives the .keras round
    /// trip: written under its Keras name, read back, the same outputs bit for bit.
    @Test func everyActivationRoundTripsThroughAKerasFile() throws {
        let models: [(String, Model, [Tensor])] = withRandomSeed(3) { withFreshLayerNames {
            var g = SeededGenerator(seed: 8)
            let x = Tensor.randomUniform([2, 3, 4], low: -1, high: 1, generator: &g)
            return Activation.allCases.map { activation in
                let model = Sequential([LSTM(3, activation: activation, recurrentActivation: activation, returnSequences: true),
                                        Dense(4, activation: activation)], inputShape: [3, 4])
                return ("activation_\(activation.rawValue)", model, [x])
            }
        } }
        for (name, model, inputs) in models {
            #expect(try model.predictOnBatch(inputs[0]).scalars.allSatisfy(\.isFinite), "\(name): the comparison needs finite outputs")
        }
        try expectKerasRoundTrip(models)
    }
}
