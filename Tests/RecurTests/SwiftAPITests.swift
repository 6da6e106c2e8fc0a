import Foundation
import Testing
import Recur
import RecurExamples

/// The API as a Swift developer meets it, through `import Recur` only (no @testable): tensors from
/// Swift values, indexing, readers, errors that name the layer and both shapes.
@Suite("The Swift API of a first hour")
struct SwiftAPITests {
    @Test func tensorsFromNestedArraysIdsAndLiterals() throws {
        let x = try Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(x.shape == [2, 3] && x.scalars == [1, 2, 3, 4, 5, 6])
        let cube = try Tensor([[[1.5], [2]], [[3], [4]]])
        #expect(cube.shape == [2, 2, 1])
        let literal: Tensor = [[0.5, -1], [2, 0.25]]
        #expect(literal.shape == [2, 2] && literal.scalars == [0.5, -1, 2, 0.25])
        let ids = Tensor([3, 14, 15])
        #expect(ids.shape == [3] && ids.scalars == [3, 14, 15])
        #expect(try Tensor(shape: [2, 2], ids: [1, 2, 3, 4]).scalars == [1, 2, 3, 4])
        #expect(Tensor(7).shape == [] && Tensor(7).scalar == 7)

        let ragged = thrownMessage { _ = try Tensor([[1, 2, 3], [4, 5]]) }
        #expect(ragged.contains("[1]") && ragged.contains("3 values") && ragged.contains("got 2"), "\(ragged)")
        let mixed = thrownMessage { _ = try Tensor([[[1, 2]], [[3, 4], [5, 6]]]) }
        #expect(mixed.contains("[1]"), "\(mixed)")
    }

    @Test func numpyIndexingReturnsTensors() throws {
        let x = try Tensor([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]])  // (2, 3, 2)
        #expect(x[0].shape == [3, 2] && x[0].scalars == [1, 2, 3, 4, 5, 6])
        #expect(x[-1].scalars == [7, 8, 9, 10, 11, 12])
        #expect(x[0..<1].shape == [1, 3, 2])
        #expect(x[axis: 1, 2].shape == [2, 2] && x[axis: 1, 2].scalars == [5, 6, 11, 12])
        #expect(x[axis: -1, 0].scalars == [1, 3, 5, 7, 9, 11])
        #expect(x[axis: 1, 1..<3].shape == [2, 2, 2])
        #expect(x[1][2][0].scalar == 11)
        #expect(x.scalar(at: [1, -1, 1]) == 12)
        // Indexing is differentiable: the gradient of x[1] flows to that row only.
        let w = x.requiringGradient()
        let g = try gradients(of: w[1].sum(), wrt: [w])[0]
        #expect(g.scalars == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    }

    @Test func readersToSwiftArrays() throws {
        let x = try Tensor([[1, 2], [3, 4]])
        #expect(try x.array2D() == [[1, 2], [3, 4]])
        #expect(try x[0].array() == [1, 2])
        #expect(try Tensor([[[1], [2]]]).array3D() == [[[1], [2]]])
        let wrongRank = thrownMessage { _ = try x.array() }
        #expect(wrongRank.contains("rank 1") && wrongRank.contains("(2, 2)"), "\(wrongRank)")
    }

    @Test func randomTensorsFollowTheGlobalSeed() {
        // withRandomSeed scopes the global generator to this test (setRandomSeed's is shared with tests
        // running alongside).
        let (a, b) = withRandomSeed(11) { (Tensor.randomNormal(shape: [3, 4]), Tensor.randomUniform(shape: [5], low: -1, high: 1)) }
        let (a2, b2) = withRandomSeed(11) { (Tensor.randomNormal(shape: [3, 4]), Tensor.randomUniform(shape: [5], low: -1, high: 1)) }
        #expect(a2.scalars == a.scalars)
        #expect(b2.scalars == b.scalars)
        #expect(b.scalars.allSatisfy { (-1..<1).contains($0) })
    }

    @Test func descriptionIsNumPyLike() throws {
        #expect(try Tensor([[1, 2, 3], [4, 5, 6]]).description == "Tensor([[1.0, 2.0, 3.0],\n        [4.0, 5.0, 6.0]], shape: (2, 3))")
        #expect(Tensor([0.5, -2]).description == "Tensor([0.5, -2.0], shape: (2,))")
        let big = Tensor.zeros([2000]).description
        #expect(big.contains("0.0, 0.0, 0.0, ..., 0.0, 0.0, 0.0") && big.hasSuffix("shape: (2000,))"), "\(big)")
    }

    @Test func sequentialBuilderTakesEveryLayerWithoutTry() throws {
        let model = Sequential {
            Embedding(inputDim: 100, outputDim: 8)
            Bidirectional(LSTM(4, returnSequences: true))
            LSTM(3)
            Dense(2)
        }
        #expect(model.layers.count == 4)
        let out = try model.predict(Tensor(shape: [2, 5], ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
        #expect(out.shape == [2, 2])
    }

    @Test func kerasCallShapes() throws {
        // Eager layer(x, initialState:), layer([a, b]) and an unlabeled Model(inputs, outputs).
        let x = Tensor.randomUniform(shape: [2, 4, 3])
        let lstm = LSTM(5, returnState: true)
        let (output, states) = try lstm.outputAndStates(x)
        #expect(output.shape == [2, 5] && states.map(\.shape) == [[2, 5], [2, 5]])
        let decoded = try LSTM(5)(x, initialState: states)
        #expect(decoded.shape == [2, 5])
        #expect(try Add()([decoded, output]).shape == [2, 5])
        let a = Input(shape: [3]), b = Input(shape: [3])
        let model = try Model([a, b], try Concatenate()([a, b]))
        #expect(try model.predictOnBatch([Tensor.ones([2, 3]), Tensor.zeros([2, 3])])[0].shape == [2, 6])
    }

    @Test func inputsOneAxisShortOrOverFitAsInKeras() throws {
        // Keras's Functional._adjust_input_rank: a last axis of 1 is added to an input one axis short
        // of a model whose last axis is 1, and dropped from an input one axis over whose last axis is 1.
        var g = SeededGenerator(seed: 11)
        let scalar = Input(shape: [1])
        let tabular = try Model(scalar, try Dense(2)(scalar))
        let column = Tensor.randomUniform([5, 1], generator: &g)
        let flat = try column.reshaped(to: [5])
        #expect(try tabular.predictOnBatch(flat).scalars == tabular.predictOnBatch(column).scalars)
        try tabular.compile(optimizer: "sgd", loss: "mse")
        _ = try tabular.fit(flat, Tensor.zeros([5, 2]), batchSize: 2, epochs: 1, verbose: 0)

        let series = Sequential { LSTM(3, inputShape: [4, 1]) }
        let steps = Tensor.randomUniform([2, 4], generator: &g)
        #expect(try series.predictOnBatch(steps).scalars == series.predictOnBatch(steps.reshaped(to: [2, 4, 1])).scalars)

        let rows = Sequential { Dense(2, inputShape: [3]) }
        let over = Tensor.randomUniform([2, 3, 1], generator: &g)
        #expect(try rows.predictOnBatch(over).scalars == rows.predictOnBatch(over.reshaped(to: [2, 3])).scalars)

        // Any other difference is refused, naming both shapes: a short input whose missing axis is not 1,
        // and an extra axis that is not 1.
        let short = try #require(thrownError { _ = try rows.predictOnBatch(Tensor.zeros([2])) })
        #expect(short.expectedShape == [nil, 3] && short.actualShape == [2], "\(short)")
        #expect(throws: RecurError.self) { try series.predictOnBatch(Tensor.zeros([2, 4, 2, 1])) }
        #expect(throws: RecurError.self) { try rows.predictOnBatch(Tensor.zeros([2, 3, 2])) }
    }

    // MARK: - Messages that name the layer and both shapes

    @Test func aLossShapeMismatchNamesTheOutputLayerAndBothShapes() throws {
        let model = Sequential { Dense(3, inputShape: [4], name: "head") }
        try model.compile(optimizer: "sgd", loss: "mse")
        let error = try #require(thrownError { try model.fit(Tensor.zeros([8, 4]), Tensor.zeros([8, 10]), verbose: 0) })
        #expect(error.subject == .layer(name: "head", className: "Dense"))
        #expect(error.expectedShape == [8, 3] && error.actualShape == [8, 10])
        #expect(error.description.contains("Dense layer 'head'") && error.description.contains("(8, 3)")
                && error.description.contains("(8, 10)") && !error.description.contains("subtract"), "\(error)")

        let classifier = Sequential { Dense(10, inputShape: [4], name: "logits") }
        try classifier.compile(optimizer: "sgd", loss: SparseCategoricalCrossentropy(fromLogits: true))
        let labels = try #require(thrownError { try classifier.fit(Tensor.zeros([32, 4]), Tensor.zeros([32, 10]), verbose: 0) })
        #expect(labels.description.contains("Dense layer 'logits'") && labels.description.contains("(32,)")
                && labels.description.contains("(32, 10)") && !labels.description.contains("expected shape labels"), "\(labels)")
    }

    @Test func setWeightsNamesTheLayerThatOwnsTheWeightAndBothShapes() throws {
        let model = Sequential { LSTM(4, inputShape: [nil, 3], name: "rnn"); Dense(2, name: "out") }
        var weights = model.getWeights()
        weights[3] = Tensor.zeros([2, 4])  // the Dense kernel is (4, 2)
        let error = try #require(thrownError { try model.setWeights(weights) })
        #expect(error.subject == .layer(name: "out", className: "Dense"))
        #expect(error.expectedShape == [4, 2] && error.actualShape == [2, 4])
        #expect(error.description.contains("kernel") && error.description.contains("(4, 2)") && error.description.contains("(2, 4)"), "\(error)")
    }

    @Test func setWeightsOnAnUnbuiltModelSaysSo() throws {
        let model = Sequential { LSTM(4); Dense(2, name: "out") }
        let message = thrownMessage { try model.setWeights([Tensor.zeros([3, 16])]) }
        #expect(message.contains("not") && message.contains("build") && !message.contains("expects 0 arrays"), "\(message)")
    }

    @Test func aLayerThatDoesNotFitIsReportedWhenTheModelIsBuilt() throws {
        let model = Sequential { LSTM(4, inputShape: [5]); Dense(2) }  // an LSTM needs (time, features)
        let error = try #require(thrownError { try model.compile(optimizer: "sgd", loss: "mse") })
        #expect(error.description.contains("lstm") && error.description.contains("(None, 5)"), "\(error)")
    }

    // MARK: - The guide, written the Keras way

    @Test func theGuidesExamplesRunWithThePublicAPI() throws {
        try withRandomSeed(5) {
            var lines: [String] = []
            let log: (String) -> Void = { lines.append($0) }
            #expect(try KerasGuide.builtInLayers(log: log).parameterCount == 164_106)
            #expect(try KerasGuide.sequencesIntoAnotherLayer(log: log).parameterCount == 361_866)
            #expect(try KerasGuide.encoderDecoder(log: log).parameterCount == 258_698)
            #expect(try KerasGuide.layersAndCells(log: log) < 1e-6)
            #expect(try KerasGuide.statefulness(log: log).shape == [20, 64])
            #expect(try KerasGuide.bidirectional(log: log).parameterCount == 80_266)
            let x = Tensor.randomUniform(shape: [128, 28, 28]), y = Tensor((0..<128).map { $0 % 10 })
            let (_, difference) = try KerasGuide.performance(x: x, y: y, validation: (x[0..<64], y[0..<64]), epochs: 1, log: log)
            #expect(difference < 1e-5)
            #expect(try KerasGuide.nestedInputs(batches: 1, log: log).outputs.count == 2)
            #expect(try KerasGuide.customCell(log: log).parameterCount == 5 * 32 + 32 * 32 + 33)
            #expect(lines.contains { $0.contains("Predicted result is") })
        }
    }
}

/// The `RecurError` `body` throws, or nil.
func thrownError(_ body: () throws -> Void) -> RecurError? {
    do { try body() } catch let error as RecurError { return error } catch { return nil }
    return nil
}

@Suite("Version")
struct VersionTests {
    @Test func theCLIPrintsTheVersionTheChangelogLists() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let changelog = try String(contentsOf: root.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)
        let latest = changelog.split(separator: "\n").first { $0.hasPrefix("## ") }.map { String($0.dropFirst(3)) }
        #expect(latest == recurVersion)
        try #require(FileManager.default.fileExists(atPath: BackupAndRestoreTests.recur.path), "build the recur executable first")
        let (status, output) = try BackupAndRestoreTests.run(["--version"])
        #expect(status == 0 && output.trimmingCharacters(in: .whitespacesAndNewlines) == recurVersion, "\(output)")
    }
}
