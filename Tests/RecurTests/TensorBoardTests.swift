import Foundation
import Testing
@testable import Recur

@Suite("TensorBoard event files")
struct TensorBoardTests {
    func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("recur-tb-\(UUID().uuidString)").path
        return path
    }

    @Test func crc32cMatchesTheCastagnoliCheckValue() {
        // The standard check value of CRC-32C over the ASCII digits 1...9.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func fitWritesEveryEpochScalarBatchScalarAndHistogram() throws {
        let logDir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: logDir) }
        try withRandomSeed(5) { try withFreshLayerNames {
            var g = SeededGenerator(seed: 6)
            let x = Tensor.randomUniform([24, 4, 3], low: -1, high: 1, generator: &g)
            let y = Tensor((0..<24).map { $0 % 3 })
            let model = Sequential([LSTM(5, inputShape: [4, 3]), Dense(3)])
            try model.compile(optimizer: Adam(learningRate: 0.01), loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
            let board = TensorBoard(logDir: logDir, histogramFrequency: 2, updateFrequency: .batch)
            let history = try model.fit(x, y, batchSize: 8, epochs: 3, validationData: (x, y), callbacks: [board], verbose: 0)

            let trainFiles = try TensorBoardEventFile.files(in: logDir + "/train")
            let validationFiles = try TensorBoardEventFile.files(in: logDir + "/validation")
            try #require(trainFiles.count == 1 && validationFiles.count == 1)
            #expect(trainFiles[0].range(of: #"/events\.out\.tfevents\.\d+\..+\.\d+\.\d+\.v2$"#, options: .regularExpression) != nil)
            let train = try TensorBoardEventFile.events(at: trainFiles[0])
            let validation = try TensorBoardEventFile.events(at: validationFiles[0])

            // Epoch scalars: one event per epoch at step = epoch, equal to the history.
            let epochEvents = train.filter { $0.scalars["epoch_loss"] != nil }
            #expect(epochEvents.map(\.step) == [0, 1, 2])
            for (epoch, event) in epochEvents.enumerated() {
                #expect(event.scalars["epoch_loss"] == history.history["loss"]![epoch])
                #expect(event.scalars["epoch_accuracy"] == history.history["accuracy"]![epoch])
                #expect(event.scalars["epoch_learning_rate"] == 0.01)
                #expect(event.scalars.keys.allSatisfy { !$0.contains("val_") })
            }
            let validationEpochs = validation.filter { $0.scalars["epoch_loss"] != nil }
            #expect(validationEpochs.map(\.step) == [0, 1, 2])
            for (epoch, event) in validationEpochs.enumerated() {
                #expect(event.scalars["epoch_loss"] == history.history["val_loss"]![epoch])
                #expect(event.scalars["epoch_accuracy"] == history.history["val_accuracy"]![epoch])
            }
            let vsIterations = validation.filter { $0.scalars["evaluation_loss_vs_iterations"] != nil }
            #expect(vsIterations.map(\.step) == [3, 6, 9], "step = optimizer iterations (3 batches per epoch)")

            // Batch scalars: every training batch, at the 1-based global batch count.
            let batchEvents = train.filter { $0.scalars["batch_loss"] != nil }
            #expect(batchEvents.map(\.step) == Array(1...9))
            #expect(batchEvents.allSatisfy { $0.scalars["batch_accuracy"] != nil })
            // The last batch's running average is the epoch's loss.
            #expect(batchEvents[2].scalars["batch_loss"] == history.history["loss"]![0])

            // Histograms at epochs 0 and 2: one per weight, counting all of its values.
            let histogramEvents = train.filter { !$0.histograms.isEmpty }
            #expect(histogramEvents.map(\.step) == [0, 2])
            let weights = model.layers.flatMap { layer in layer.variables.map { ("\(layer.name)/\($0.name)/histogram", $0.value.scalars) } }
            for (tag, values) in weights {
                let histogram = try #require(histogramEvents.last!.histograms[tag], "\(tag)")
                #expect(histogram.count == Double(values.count))
                #expect(histogram.bucketCounts.reduce(0, +) == Double(values.count))
                #expect(histogram.minimum == Double(values.min()!) && histogram.maximum == Double(values.max()!))
                #expect(abs(histogram.sum - values.reduce(0) { $0 + Double($1) }) < 1e-4)
            }
        } }
    }

    @Test func updateFrequenciesAndBadOptions() throws {
        let logDir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: logDir) }
        try withRandomSeed(7) { try withFreshLayerNames {
            let x = Tensor.ones([12, 3]), y = Tensor.zeros([12, 1])
            let model = Sequential([Dense(1, inputShape: [3])])
            try model.compile(optimizer: "sgd", loss: "mse")
            // Epoch-level only (Keras's default): no batch scalars, no validation events without validation data.
            try model.fit(x, y, batchSize: 4, epochs: 2, callbacks: [TensorBoard(logDir: logDir + "/epoch")], verbose: 0)
            let train = try TensorBoardEventFile.events(at: try TensorBoardEventFile.files(in: logDir + "/epoch/train")[0])
            #expect(train.map(\.step) == [0, 1] && train.allSatisfy { $0.scalars.keys.allSatisfy { $0.hasPrefix("epoch_") } })
            #expect(try TensorBoardEventFile.events(at: try TensorBoardEventFile.files(in: logDir + "/epoch/validation")[0]).isEmpty)
            // Every second batch: 3 batches per epoch, global batches 2, 4, 6.
            try model.fit(x, y, batchSize: 4, epochs: 2, callbacks: [TensorBoard(logDir: logDir + "/two", updateFrequency: .everyBatches(2))], verbose: 0)
            let two = try TensorBoardEventFile.events(at: try TensorBoardEventFile.files(in: logDir + "/two/train")[0])
            #expect(two.filter { $0.scalars["batch_loss"] != nil }.map(\.step) == [2, 4, 6])
            #expect(throws: RecurError.self) {
                try model.fit(x, y, epochs: 1, callbacks: [TensorBoard(logDir: logDir + "/bad", updateFrequency: .everyBatches(0))], verbose: 0)
            }
            #expect(throws: RecurError.self) {
                try model.fit(x, y, epochs: 1, callbacks: [TensorBoard(logDir: "/proc/recur-cannot-write-here")], verbose: 0)
            }
        } }
    }

    @Test func histogramBucketsCoverTheRange() {
        let histogram = TensorBoardHistogram(values: [0, 1, 1, 2, 3, 4, .nan], bucketCount: 4)
        #expect(histogram.bucketLimits == [1, 2, 3, 4])
        #expect(histogram.bucketCounts == [3, 1, 1, 1], "(-, 1], (1, 2], (2, 3], (3, 4]; NaN left out")
        #expect(histogram.count == 6 && histogram.sum == 11 && histogram.sumOfSquares == 31)
        let constant = TensorBoardHistogram(values: [2, 2])
        #expect(constant.bucketLimits == [2] && constant.bucketCounts == [2])
    }

    @Test func damagedEventFilesThrowNamingTheFile() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = try TensorBoardEventFile(directory: directory)
        try file.write(step: 1, scalars: [("loss", 0.5)])
        let intact = try Data(contentsOf: URL(fileURLWithPath: file.path))
        #expect(try TensorBoardEventFile.events(at: file.path).map(\.scalars) == [["loss": 0.5]])

        // A record cut short at the end (a writer killed mid-write) is left out, as TensorBoard does.
        let truncatedPath = directory + "/truncated"
        try intact.prefix(intact.count - 3).write(to: URL(fileURLWithPath: truncatedPath))
        #expect(try TensorBoardEventFile.events(at: truncatedPath).isEmpty)

        // A flipped payload byte fails the data checksum; a huge length fails the length checksum.
        var flipped = intact
        flipped[flipped.count - 6] ^= 0xFF
        let flippedPath = directory + "/flipped"
        try flipped.write(to: URL(fileURLWithPath: flippedPath))
        #expect { try TensorBoardEventFile.events(at: flippedPath) } throws: { error in
            "\(error)".contains(flippedPath) && "\(error)".contains("checksum")
        }
        var hugeLength = intact
        hugeLength[hugeLength.startIndex + 7] = 0x7F
        let hugePath = directory + "/huge"
        try hugeLength.write(to: URL(fileURLWithPath: hugePath))
        #expect { try TensorBoardEventFile.events(at: hugePath) } throws: { error in "\(error)".contains("checksum") }

        // Framing with a valid checksum around bytes that are not an Event.
        let garbagePath = directory + "/garbage"
        try TFRecord.frame(Data([0xFF, 0xFF, 0xFF])).write(to: URL(fileURLWithPath: garbagePath))
        #expect { try TensorBoardEventFile.events(at: garbagePath) } throws: { error in
            "\(error)".contains(garbagePath) && "\(error)".contains("not a TensorBoard Event")
        }
    }
}
