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

    /// The ReLU, LeakyReLU and ELU layers read Keras's configs (LeakyReLU also Keras 2's `alpha`), are
    /// named as Keras names them, refuse negative parameters naming the layer, and round-trip.
    @Test func activationLayersReadKerasConfigs() throws {
        func layer(_ className: String, _ config: [String: JSONValue]) throws -> Layer {
            try KerasLayerRegistry.layer(className: className, config: config)
        }
        let relu = try #require(try layer("ReLU", ["max_value": .null, "negative_slope": .number(0.1), "threshold": .number(0.5)]) as? ReLU)
        #expect(relu.maxValue == nil && relu.negativeSlope == 0.1 && relu.threshold == 0.5)
        #expect((try layer("LeakyReLU", ["alpha": .number(0.25)]) as? LeakyReLU)?.negativeSlope == 0.25)
        #expect((try layer("LeakyReLU", [:]) as? LeakyReLU)?.negativeSlope == 0.3)
        #expect((try layer("ELU", [:]) as? ELU)?.alpha == 1)
        #expect(thrownMessage { _ = try layer("ReLU", ["max_value": .number(-1), "name": .string("clip")]) }.contains("clip"))
        #expect(thrownMessage { _ = try layer("LeakyReLU", ["negative_slope": .number(-0.5)]) }.contains("-0.5"))
        withFreshLayerNames {
            #expect(ReLU().name == "re_lu" && LeakyReLU().name == "leaky_re_lu" && ELU().name == "elu")
        }
        let model = withRandomSeed(4) { Sequential([Dense(4), ReLU(maxValue: 3, negativeSlope: 0.2, threshold: 0.1), LeakyReLU(negativeSlope: 0.1),
                                                    Dense(3), ELU(alpha: 0.5)], inputShape: [2]) }
        var g = SeededGenerator(seed: 1)
        try expectKerasRoundTrip([("activation_layers", model, [Tensor.randomUniform([5, 2], low: -3, high: 3, generator: &g)])])
    }
}
