import Foundation
import Testing
@testable import Recur

/// Conv1D, MaxPooling1D and AveragePooling1D beyond the layer fixtures (which compare each layer's
/// outputs and gradients with Keras's): whole Keras models with them, Recur's own files, Keras's
/// names, shapes and the errors for arguments and inputs that cannot work.
@Suite("1-D convolution and pooling layers")
struct ConvolutionTests {
    /// Models Keras saved (convolutions and pooling before recurrent layers) load and predict what
    /// Keras predicted, and round-trip through Recur's own `.keras` files.
    @Test(arguments: ["conv_lstm", "conv_bidirectional"])
    func kerasModelsMatchKeras(_ name: String) throws {
        let model = try loadModel(path: ParityFixtures.path("\(name).keras"))
        let arrays = try NumpyFile.loadNpz(path: ParityFixtures.path("\(name).npz"))
        let input = try #require(arrays["input_0"]), expected = try #require(arrays["output_0"])
        expectClose(try model.predict(input), expected, "\(name) output")
        try expectKerasRoundTrip([(name, model, [input])])
    }

    /// Keras's default names, the output shapes Keras computes (an unknown time length stays
    /// unknown) and the parameter count of a grouped convolution.
    @Test func namesShapesAndParameters() throws {
        withFreshLayerNames {
            #expect(Conv1D(2, kernelSize: 3).name == "conv1d")
            #expect(MaxPooling1D().name == "max_pooling1d" && AveragePooling1D().name == "average_pooling1d")
        }
        let model = Sequential([Conv1D(8, kernelSize: 4, strides: 2, padding: .same, groups: 2),
                                MaxPooling1D(poolSize: 3, strides: 1, padding: .same),
                                Conv1D(3, kernelSize: 2, padding: .causal, dilationRate: 3),
                                AveragePooling1D(poolSize: 2)])
        try model.build(inputShape: [nil, 9, 4])
        #expect(model.outputShapes == [[nil, 2, 3]])
        // (4 taps · 2 channels a group · 8 filters + 8) + (2 · 8 · 3 + 3)
        #expect(model.parameterCount == 72 + 51)
        let open = Sequential([Conv1D(2, kernelSize: 3, padding: .valid), MaxPooling1D()])
        try open.build(inputShape: [nil, nil, 3])
        #expect(open.outputShapes == [[nil, nil, 2]])
        #expect(try open.predict(Tensor.zeros([1, 7, 3])).shape == [1, 2, 2])
    }

    /// Arguments Keras refuses, and inputs too short for one window, are errors that name the layer
    /// and the values.
    @Test func impossibleArgumentsAndInputsAreNamedErrors() throws {
        func config(_ className: String, _ entries: [String: JSONValue]) throws -> Layer {
            try KerasLayerRegistry.layer(className: className, config: entries)
        }
        func building(_ layer: Layer, time: Int? = 5) -> String {
            thrownMessage { try Sequential([layer]).build(inputShape: [nil, time, 4]) }
        }
        #expect(building(Conv1D(3, kernelSize: 2, groups: 2, name: "grouped")).contains("grouped"))
        #expect(building(Conv1D(2, kernelSize: 2, strides: 2, dilationRate: 2)).contains("dilationRate (2)"))
        #expect(building(AveragePooling1D(poolSize: 6)).contains("5 steps"))
        #expect(thrownMessage { _ = try config("MaxPooling1D", ["pool_size": .array([.number(2)]), "padding": "causal"]) }.contains("causal"))
        #expect(thrownMessage { _ = try config("Conv1D", ["filters": .number(2), "kernel_size": .array([.number(0)])]) }.contains("kernel_size"))
        #expect(thrownMessage { _ = try config("Conv1D", ["filters": .number(2), "kernel_size": .array([.number(2), .number(2)])]) }.contains("kernel_size"))
        #expect(thrownMessage { _ = try config("Conv1D", ["filters": .number(2), "kernel_size": .number(2), "data_format": "channels_first"]) }
            .contains("channels_first"))
        let short = Sequential([Conv1D(2, kernelSize: 5, name: "wide")])
        try short.build(inputShape: [nil, nil, 3])
        let message = thrownMessage { _ = try short.predict(Tensor.zeros([1, 4, 3])) }
        #expect(message.contains("wide") && message.contains("4 steps") && message.contains("at least 5 steps"))
    }

    /// A window far larger than the input, with `same` padding, would gather more values than
    /// Recur allows: an error, not an allocation.
    @Test func hugeWindowsAreRefusedBeforeAllocating() throws {
        let model = Sequential([MaxPooling1D(poolSize: 60_000, strides: 1, padding: .same, name: "vast")])
        try model.build(inputShape: [nil, nil, 4])
        let message = thrownMessage { _ = try model.predict(Tensor.zeros([2, 5_000, 4])) }
        #expect(message.contains("vast") && message.contains("more than"))
    }

    /// Trained by `fit`, a convolution in front of an LSTM learns (the loss falls), as a use of the
    /// gradients the layer fixtures check.
    @Test func trainsInFrontOfAnLSTM() throws {
        let model = withRandomSeed(7) {
            Sequential([Conv1D(6, kernelSize: 3, padding: .causal, activation: .relu), MaxPooling1D(), LSTM(5), Dense(2)])
        }
        var g = SeededGenerator(seed: 2)
        let x = Tensor.randomUniform([64, 8, 3], generator: &g)
        // Whether a sample's first channel averages above 0.5 over time: a sum a convolution sees.
        let y = try x.slice(alongAxis: 2, 0..<1).mean(alongAxes: [1, 2]).greater(Tensor(0.5))
        try model.compile(optimizer: Adam(learningRate: 0.02), loss: SparseCategoricalCrossentropy(fromLogits: true))
        let history = try model.fit(x, y, batchSize: 16, epochs: 15, verbose: 0)
        let losses = try #require(history.history["loss"])
        #expect(losses.last! < losses.first! * 0.7, "losses \(losses)")
    }
}
