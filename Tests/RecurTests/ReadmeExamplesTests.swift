import Testing
@testable import Recur

/// The README's code, so it stays true.
@Suite("README examples")
struct ReadmeExamplesTests {
    @Test func sequentialExample() throws {
        try withFreshLayerNames {
            let model = Sequential {
                LSTM(64, inputShape: [nil, 28])
                BatchNormalization()
                Dense(10)
            }
            try model.compile(optimizer: SGD(), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
            #expect(model.summaryText().contains("Total params: 24,714"))
            let x = Tensor.ones([3, 28, 28]), y = Tensor([1, 2, 3])
            let history = try model.fit(x.scaled(by: 1 / 255), y, batchSize: 2, epochs: 1, validationData: (x, y), verbose: 0)
            #expect(history.history["val_accuracy"]?.count == 1)
        }
    }

    @Test func functionalExample() throws {
        try withFreshLayerNames {
            let encoderInput = Input(shape: [nil])
            let encoded = try Embedding(inputDim: 1000, outputDim: 64)(encoderInput)
            let (_, encoderState) = try LSTM(64, returnState: true, name: "encoder").outputAndStates(encoded)  // h, c
            let decoderInput = Input(shape: [nil])
            let decoded = try Embedding(inputDim: 2000, outputDim: 64)(decoderInput)
            let decoderOutput = try LSTM(64, name: "decoder")(decoded, initialState: encoderState)
            let model = try Model([encoderInput, decoderInput], Dense(10)(decoderOutput))
            let out = try model.predictOnBatch([Tensor([1, 2, 3]).reshaped(to: [1, 3]),
                                                Tensor([4, 5]).reshaped(to: [1, 2])])
            #expect(out[0].shape == [1, 10])
            #expect(model.parameterCount == 258_698)
        }
    }
}
