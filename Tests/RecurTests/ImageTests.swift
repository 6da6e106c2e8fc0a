import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Recur

/// The predicted sample as a picture: a PNG file and a terminal drawing.
@Suite("Images of samples")
struct ImageTests {
    /// Reads a grayscale PNG back chunk by chunk (checking every CRC) and returns its pixels.
    static func decode(_ png: Data) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let bytes = BoundedBytes(data: png, path: "test.png", what: "PNG")
        #expect(png.prefix(8) == PNGImage.signature)
        var offset = 8, width = 0, height = 0
        var idat = Data()
        while offset < png.count {
            let length = Int(try bytes.u32BigEndian(offset))
            let body = try bytes.bytes(offset + 4, length + 4, "chunk")
            #expect(try bytes.u32BigEndian(offset + 8 + length) == Zlib.crc32(body), "CRC of a chunk")
            let type = String(decoding: body.prefix(4), as: UTF8.self), data = body.dropFirst(4)
            if type == "IHDR" {
                width = Int(try bytes.u32BigEndian(offset + 8))
                height = Int(try bytes.u32BigEndian(offset + 12))
                #expect(Array(data.suffix(5)) == [8, 0, 0, 0, 0])
            }
            if type == "IDAT" { idat.append(data) }
            offset += 12 + length
        }
        let rows = try Zlib.inflate(idat, windowBits: 15, limit: (width + 1) * height, path: "test.png", what: "IDAT")
        var pixels: [UInt8] = []
        for r in 0..<height {
            #expect(rows[r * (width + 1)] == 0, "filter type none")
            pixels += rows[(r * (width + 1) + 1)..<((r + 1) * (width + 1))]
        }
        return (width, height, pixels)
    }

    @Test func aGrayscalePNGReadsBack() throws {
        let image = try Tensor(shape: [3, 4], scalars: [0, 0.5, 1, 2, -1, 0.25, 0.75, 1, 0, 0, 0, 1])
        let (width, height, pixels) = try Self.decode(PNGImage.grayscale(image))
        #expect(width == 4 && height == 3)
        #expect(pixels == [0, 128, 255, 255, 0, 64, 191, 255, 0, 0, 0, 255])
    }

    @Test func theTerminalDrawingUsesHalfBlocksOrText() throws {
        let image = try Tensor(shape: [3, 2], scalars: [0, 1, 1, 0, 0.5, 0.5])
        let colour = try TerminalImage.render(image, color: true)
        #expect(colour.components(separatedBy: "\n").count == 3)  // two text rows for three pixel rows
        #expect(colour.contains("\u{1B}[38;5;232m\u{1B}[48;5;255m▀") && colour.contains("\u{1B}[38;5;255m\u{1B}[48;5;232m▀"))
        let text = try TerminalImage.render(image, color: false)
        #expect(text == " @\n@ \n++\n", "\(text)")
    }

    @Test func recurTrainShowsThePredictedSample() throws {
        try #require(FileManager.default.fileExists(atPath: BackupAndRestoreTests.recur.path), "build the recur executable first")
        try #require(FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory), "needs Debian's dataset-fashion-mnist")
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = dir.appendingPathComponent("sample.png").path
        let (status, output) = try BackupAndRestoreTests.run(["train", "--limit", "64", "--units", "8", "--show", png])
        #expect(status == 0)
        #expect(output.contains("@") && output.contains("Predicted result is"), "a text picture when stdout is not a terminal")
        let (width, height, pixels) = try Self.decode(Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(width == 28 && height == 28 && pixels.contains { $0 > 200 })
        let refused = try BackupAndRestoreTests.run(["train", "--show", dir.appendingPathComponent("x.jpg").path])
        #expect(refused.status != 0)
    }
}

/// Training curves as SVG: well-formed XML with a panel per metric, a line per series, ticks and a legend.
@Suite("Training curves")
struct TrainingCurveTests {
    final class Elements: NSObject, XMLParserDelegate {
        var found: [(name: String, attributes: [String: String])] = []
        var text = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) { found.append((name, attributes)) }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string + "|" }
    }

    @Test func historyPlotsLossAndAccuracyForTrainingAndValidation() throws {
        var history = History()
        for (epoch, (loss, accuracy)) in [(1.0, 0.5), (0.5, 0.7), (0.25, 0.8)].enumerated() {
            var logs = Logs()
            logs["loss"] = Float(loss); logs["accuracy"] = Float(accuracy)
            logs["val_loss"] = Float(loss + 0.2); logs["val_accuracy"] = Float(accuracy - 0.1)
            history.record(epoch: epoch, logs: logs)
        }
        let elements = Elements()
        let parser = XMLParser(data: Data(history.svg().utf8))
        parser.delegate = elements
        #expect(parser.parse(), "well-formed XML: \(String(describing: parser.parserError))")
        let lines = elements.found.filter { $0.name == "polyline" }
        #expect(lines.count == 4, "loss and accuracy, training and validation")
        for line in lines {
            let points = line.attributes["points"]!.split(separator: " ").map { $0.split(separator: ",").map { Double($0)! } }
            #expect(points.count == 3)
            #expect(points[0][0] < points[1][0] && points[1][0] < points[2][0], "epochs left to right")
        }
        // The loss falls, so its line goes down the page (SVG's y grows downward); accuracy rises.
        let lossY = lines[0].attributes["points"]!.split(separator: " ").map { Double($0.split(separator: ",")[1])! }
        #expect(lossY[0] < lossY[2])
        #expect(lines.filter { $0.attributes["stroke-dasharray"] != nil }.count == 2, "validation dashed")
        for label in ["loss", "accuracy", "epoch", "training", "validation"] { #expect(elements.text.contains(label + "|")) }
    }

    @Test func fitRecordsEveryStepAndThePlotDrawsIt() throws {
        try withRandomSeed(8) { try withFreshLayerNames {
            let x = Tensor.randomUniform(shape: [20, 3]), y = Tensor((0..<20).map { $0 % 2 })
            let model = Sequential([Dense(2, inputShape: [3])])
            try model.compile(optimizer: "adam", loss: SparseCategoricalCrossentropy(fromLogits: true), metrics: ["accuracy"])
            let history = try model.fit(x, y, batchSize: 8, epochs: 2, validationData: (x, y), verbose: 0)
            // 3 steps per epoch (8, 8, 4 rows): positions in epochs, each epoch's last one at its end.
            let expected: [Double] = [1, 2, 3, 4, 5, 6].map { Double($0) / 3 }
            #expect(zip(history.stepPositions, expected).allSatisfy { abs($0 - $1) < 1e-12 } && history.stepPositions.count == 6)
            #expect(history.stepPositions[2] == 1 && history.stepPositions[5] == 2)
            #expect(history.stepHistory["loss"]?.count == 6 && history.stepHistory["val_loss"] == nil)
            // The running average after an epoch's last step is the epoch's training log.
            #expect(history.stepHistory["loss"]![2] == history.history["loss"]![0])
            #expect(history.stepHistory["accuracy"]![5] == history.history["accuracy"]![1])

            let elements = Elements()
            let parser = XMLParser(data: Data(history.svg().utf8))
            parser.delegate = elements
            #expect(parser.parse())
            let lines = elements.found.filter { $0.name == "polyline" }
            #expect(lines.count == 6, "per panel: training and validation per epoch, training per step")
            let stepLine = lines.first { $0.attributes["stroke-width"] == "1" }!
            #expect(stepLine.attributes["points"]!.split(separator: " ").count == 6)
            #expect(elements.text.contains("training, per step|"))
        } }
    }
}
