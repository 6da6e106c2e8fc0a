import Foundation
import Recur

/// The examples of the Keras guide "Working with RNNs", in its order, written as a Keras user writes
/// them — with Recur's public API only. `recur guide` runs them and prints what the guide prints; the
/// tests run them too. Each returns what it computed, for checking.
public enum KerasGuide {
    /// 1. Built-in RNN layers: Embedding → LSTM → Dense.
    public static func builtInLayers(log: @escaping (String) -> Void = { print($0) }) throws -> Sequential {
        let model = Sequential {
            Embedding(inputDim: 1000, outputDim: 64)
            LSTM(128)
            Dense(10)
        }
        model.summary(print: log)
        return model
    }

    /// 2. A GRU returning sequences into a SimpleRNN.
    public static func sequencesIntoAnotherLayer(log: @escaping (String) -> Void = { print($0) }) throws -> Sequential {
        let model = Sequential {
            Embedding(inputDim: 1000, outputDim: 64)
            GRU(256, returnSequences: true)
            SimpleRNN(128)
            Dense(10)
        }
        model.summary(print: log)
        return model
    }

    /// 3. Outputs and states: the encoder's final states start the decoder.
    public static func encoderDecoder(log: @escaping (String) -> Void = { print($0) }) throws -> Model {
        let encoderInput = Input(shape: [nil])
        let encoderEmbedded = try Embedding(inputDim: 1000, outputDim: 64)(encoderInput)
        let (_, encoderState) = try LSTM(64, returnState: true, name: "encoder").outputAndStates(encoderEmbedded)
        let decoderInput = Input(shape: [nil])
        let decoderEmbedded = try Embedding(inputDim: 2000, outputDim: 64)(decoderInput)
        let decoderOutput = try LSTM(64, name: "decoder")(decoderEmbedded, initialState: encoderState)
        let model = try Model([encoderInput, decoderInput], try Dense(10)(decoderOutput))
        model.summary(print: log)
        return model
    }

    /// 4. RNN layers and cells: `RNN(LSTMCell(10))` computes `LSTM(10)`. Returns the largest difference.
    public static func layersAndCells(log: @escaping (String) -> Void = { print($0) }) throws -> Float {
        let x = Tensor.randomUniform(shape: [4, 6, 8])
        let layer = LSTM(10), wrapped = RNN(LSTMCell(10))
        _ = try layer(x)
        _ = try wrapped(x)
        try wrapped.setWeights(layer.getWeights())
        let difference = try layer(x).maxAbsDifference(wrapped(x))
        log("LSTM(10) vs RNN(LSTMCell(10)) with the same weights: max |difference| = \(difference)")
        return difference
    }

    /// 5. Cross-batch statefulness over three paragraphs, then a reset; and 6. state reuse: one
    /// layer's states as another's initial state. Returns the reused layer's output.
    public static func statefulness(log: @escaping (String) -> Void = { print($0) }) throws -> Tensor {
        let paragraphs = (0..<3).map { _ in Tensor.randomUniform(shape: [20, 10, 50]) }
        let lstm = LSTM(64, stateful: true, batchSize: 20)
        for (i, paragraph) in paragraphs.enumerated() {
            let output = try lstm(paragraph)
            log("paragraph \(i + 1): output \(describeShape(output.shape)), carried states \(lstm.states!.map { describeShape($0.shape) })")
        }
        lstm.resetStates()
        log("after resetStates(): states are zeros: \(lstm.states!.allSatisfy { $0.maxAbsDifference(.zeros($0.shape)) == 0 })")

        let first = LSTM(64, stateful: true, batchSize: 20)
        _ = try first(paragraphs[0])
        _ = try first(paragraphs[1])
        let existingState = first.states!
        let newOutput = try LSTM(64)(paragraphs[2], initialState: existingState)
        log("new_lstm_layer(paragraph3, initialState: existing_state) → \(describeShape(newOutput.shape))")
        return newOutput
    }

    /// 7. Bidirectional RNNs.
    public static func bidirectional(log: @escaping (String) -> Void = { print($0) }) throws -> Sequential {
        let model = Sequential {
            Bidirectional(LSTM(64, returnSequences: true), inputShape: [5, 10])
            Bidirectional(LSTM(32))
            Dense(10)
        }
        model.summary(print: log)
        return model
    }

    /// 8. Performance: the MNIST-row model with the fused kernel and with the cell loop (same numbers
    /// after `setWeights`), trained for `epochs` on `x`/`y`, then a CPU prediction of one sample.
    /// Returns the fused model and the largest difference between the two models' predictions.
    public static func performance(x: Tensor, y: Tensor, validation: (x: Tensor, y: Tensor), epochs: Int,
                                   log: @escaping (String) -> Void = { print($0) }) throws -> (model: Sequential, difference: Float) {
        let model = try GuideModels.mnistRows()
        let loss = SparseCategoricalCrossentropy(fromLogits: true)
        try model.compile(optimizer: "sgd", loss: loss, metrics: ["accuracy"])
        model.summary(print: log)
        if epochs > 0 { try model.fit(x, y, batchSize: 64, epochs: epochs, validationData: validation, output: log) }
        let loopModel = try GuideModels.mnistRows(cellLoop: true)
        try loopModel.compile(optimizer: "sgd", loss: loss, metrics: ["accuracy"])
        try loopModel.build(inputShape: [nil, 28, 28])
        try loopModel.setWeights(model.getWeights())
        let probe = validation.x[0..<min(256, validation.x.shape[0])]
        let difference = try model.predict(probe).maxAbsDifference(loopModel.predict(probe))
        log("fused LSTM vs RNN(LSTMCell) after setWeights(getWeights()): max |difference| = \(difference)")
        let predicted = try model.predictOnBatch(validation.x[0..<1]).argmax(alongAxis: 1)
        log("Predicted result is: [\(Int(predicted.scalar))], target result is: \(Int(validation.y[0].scalar))")
        return (model, difference)
    }

    /// 9. Nested inputs and states: the guide's `NestedCell` in an `RNN`, in a functional model with
    /// two inputs and two outputs, trained on random data for `batches` batches of 64.
    public static func nestedInputs(batches: Int, log: @escaping (String) -> Void = { print($0) }) throws -> Model {
        let (unit1, unit2, unit3, i1, i2, i3, timesteps) = (10, 20, 30, 32, 64, 32, 50)
        let cell = NestedCell(unit1: unit1, unit2: unit2, unit3: unit3)
        let input1 = Input(shape: [nil, i1]), input2 = Input(shape: [nil, i2, i3])
        let outputs = try RNN(cell).outputs([input1, input2])
        let model = try Model([input1, input2], outputs)
        try model.compile(optimizer: "adam", loss: "mse", metrics: ["accuracy"])
        model.summary(print: log)
        let n = 64 * batches
        let x = [Tensor.randomUniform(shape: [n, timesteps, i1]), Tensor.randomUniform(shape: [n, timesteps, i2, i3])]
        let y = [Tensor.randomUniform(shape: [n, unit1]), Tensor.randomUniform(shape: [n, unit2, unit3])]
        try model.fit(x, y, batchSize: 64, output: log)
        return model
    }

    /// A cell of one's own (Keras's `MinimalRNNCell`), trained in an `RNN` for one epoch on random
    /// data; returns the model.
    public static func customCell(log: @escaping (String) -> Void = { print($0) }) throws -> Sequential {
        let model = Sequential {
            RNN(MinimalRNNCell(units: 32), inputShape: [nil, 5])
            Dense(1)
        }
        try model.compile(optimizer: "adam", loss: "mse")
        model.summary(print: log)
        try model.fit(Tensor.randomUniform(shape: [256, 10, 5]), Tensor.randomUniform(shape: [256, 1]), batchSize: 32, output: log)
        return model
    }
}
