import ArgumentParser
import Foundation
import Recur
import RecurExamples

/// `recur guide`: every code example of the Keras RNN guide, in order, in Swift (`KerasGuide`).
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
        _ = try KerasGuide.builtInLayers()
        section("GRU with returnSequences feeding a SimpleRNN")
        _ = try KerasGuide.sequencesIntoAnotherLayer()
        section("Outputs and states: the encoder-decoder with returnState and initialState")
        _ = try KerasGuide.encoderDecoder()
        section("RNN layers and RNN cells: RNN(LSTMCell(10)) computes LSTM(10)")
        _ = try KerasGuide.layersAndCells()
        section("Cross-batch statefulness over three paragraphs, and state reuse")
        _ = try KerasGuide.statefulness()
        section("Bidirectional RNNs")
        _ = try KerasGuide.bidirectional()
        section("Performance: the MNIST-row model, fused kernel vs cell loop, CPU inference")
        do {
            let data = try FashionMNIST.load(directory: dataDir)
            _ = try KerasGuide.performance(x: data.train.x.scaled(by: 1 / 255), y: data.train.y,
                                           validation: (data.test.x.scaled(by: 1 / 255), data.test.y), epochs: noTrain ? 0 : 1)
        } catch let error as RecurError where error.kind == .io {
            print("skipped: \(error)")
        }
        section("Nested inputs: the NestedCell")
        _ = try KerasGuide.nestedInputs(batches: noTrain ? 1 : 10)
        section("A cell of your own: MinimalRNNCell")
        _ = try KerasGuide.customCell()
    }
}
