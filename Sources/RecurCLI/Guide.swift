import ArgumentParser
import Foundation
import Recur
import RecurExamples

/// `recur guide`: every code example of the Keras RNN guide, in order, in Swift.
struct Guide: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Keras RNN guide's examples in Swift, in order.")

    @Flag(name: .customLong("no-train"), help: "Skip the steps that train.") var noTrain = false
    @Option(name: .customLong("data-dir"), help: "Directory with the Fashion-MNIST IDX files (the guide's MNIST example).")
    var dataDir = FashionMNIST.defaultDirectory

    func section(_ title: String) { print("\n## \(title)\n") }

    func run() throws {
        setRandomSeed(42)
        setBLASThreads(1)
        section("Built-in RNN layers: Embedding + LSTM + Dense")
        try GuideModels.embeddingLSTM().summary()

        section("GRU with returnSequences feeding a SimpleRNN")
        try GuideModels.gruSimpleRNN().summary()

        section("Outputs and states: the encoder-decoder with returnState and initialState")
        try GuideModels.encoderDecoder().summary()

        section("RNN layers and RNN cells: RNN(LSTMCell(10)) computes LSTM(10)")
        try cellEquivalence()

        section("Cross-batch statefulness over three paragraphs")
        try statefulParagraphs()

        section("Bidirectional RNNs")
        try GuideModels.bidirectional().summary()

        section("Performance: the MNIST-row model, fused kernel vs cell loop, CPU inference")
        try mnistRows()

        section("Nested inputs: the NestedCell")
        try nestedCell()
    }

    func randomParagraph(_ g: inout SeededGenerator) -> Tensor {
        Tensor.randomUniform([20, 10, 50], generator: &g)
    }

    func cellEquivalence() throws {
        var g = SeededGenerator(seed: 1)
        let x = Tensor.randomUniform([4, 6, 8], generator: &g)
        let layer = LSTM(10), wrapped = RNN(LSTMCell(10))
        _ = try layer(x)
        _ = try wrapped(x)
        try wrapped.setWeights(layer.getWeights())
        let difference = try layer(x).maxAbsDifference(wrapped(x))
        print("LSTM(10) vs RNN(LSTMCell(10)) with the same weights: max |difference| = \(difference)")
    }

    func statefulParagraphs() throws {
        var g = SeededGenerator(seed: 2)
        let paragraphs = (0..<3).map { _ in randomParagraph(&g) }
        let lstm = LSTM(64, stateful: true)
        for (i, p) in paragraphs.enumerated() {
            let output = try lstm(p)
            print("paragraph \(i + 1): output \(describeShape(output.shape)), carried states \(lstm.states!.map { describeShape($0.shape) })")
        }
        try lstm.resetStates()
        print("after resetStates(): states = \(lstm.states.map { "\($0.count) tensors" } ?? "zeros")")

        section("RNN state reuse: one layer's states as another's initialState")
        let first = LSTM(64, stateful: true)
        _ = try first(paragraphs[0])
        _ = try first(paragraphs[1])
        let existingState = first.states!
        let second = LSTM(64)
        let newOutput = try second.outputs(paragraphs[2], initialState: existingState)[0]
        print("new_lstm_layer(paragraph3, initialState: existing_state) → \(describeShape(newOutput.shape))")
    }

    func mnistRows() throws {
        let model = try GuideModels.mnistRows()
        model.summary()
        let loss = SparseCategoricalCrossentropy(fromLogits: true)
        try model.compile(optimizer: "sgd", loss: loss, metrics: ["accuracy"])
        let data: (train: (x: Tensor, y: Tensor), test: (x: Tensor, y: Tensor))
        do { data = try FashionMNIST.load(directory: dataDir) } catch {
            print("skipped: \(error)")
            return
        }
        let xTrain = data.train.x.scaled(by: 1 / 255), xTest = data.test.x.scaled(by: 1 / 255)
        let sample = try xTest.slice(alongAxis: 0, 0..<1), label = Int(data.test.y.scalars[0])
        if !noTrain {
            try model.fit(xTrain, data.train.y, batchSize: 64, epochs: 1, validationData: (xTest, data.test.y))
        }
        let loopModel = try GuideModels.mnistRows(cellLoop: true)
        try loopModel.compile(optimizer: "sgd", loss: loss, metrics: ["accuracy"])
        _ = try loopModel.predictOnBatch(sample)
        try loopModel.setWeights(model.getWeights())
        let probe = try xTest.slice(alongAxis: 0, 0..<256)
        let difference = try model.predict(probe).maxAbsDifference(loopModel.predict(probe))
        print("fused LSTM vs RNN(LSTMCell) after setWeights(getWeights()): max |difference| over 256 predictions = \(difference)")
        if !noTrain {
            try loopModel.fit(xTrain, data.train.y, batchSize: 64, epochs: 1, validationData: (xTest, data.test.y))
        }
        let predicted = try model.predictOnBatch(sample).argmax(alongAxis: 1)
        print("Predicted result is: [\(Int(predicted.scalars[0]))], target result is: \(label)")
    }

    func nestedCell() throws {
        let (unit1, unit2, unit3, i1, i2, i3) = (10, 20, 30, 32, 64, 32)
        let (batchSize, batches, timesteps) = (64, 10, 50)
        let cell = NestedCell(unit1: unit1, unit2: unit2, unit3: unit3)
        let rnn = RNN(cell)
        let input1 = Input(shape: [nil, i1]), input2 = Input(shape: [nil, i2, i3])
        let outputs = try rnn.outputs([input1, input2])
        let model = try Model(inputs: [input1, input2], outputs: outputs)
        try model.compile(optimizer: "adam", loss: "mse", metrics: ["accuracy"])
        model.summary()
        var g = SeededGenerator(seed: 3)
        let n = noTrain ? batchSize : batchSize * batches
        let x = [Tensor.randomUniform([n, timesteps, i1], generator: &g), Tensor.randomUniform([n, timesteps, i2, i3], generator: &g)]
        let y = [Tensor.randomUniform([n, unit1], generator: &g), Tensor.randomUniform([n, unit2, unit3], generator: &g)]
        if noTrain {
            let out = try model.predictOnBatch(x)
            print("outputs: \(out.map { describeShape($0.shape) })")
        } else {
            try model.fit(x, y, batchSize: batchSize)
        }
    }
}
