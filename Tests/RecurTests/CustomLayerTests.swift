import Foundation
import Testing
import Recur

/// A layer class written the way the README's "Extending Recur" shows: everything it needs — its
/// weights, its computation and its Keras arguments — in this one file, nothing else changed.
///
///     y = x ⊙ scale · factor   (scale: one weight per feature)
final class FeatureScale: Layer {
    let factor: Float
    private(set) var scale: Variable?

    init(factor: Float = 1, name: String? = nil) {
        self.factor = factor
        super.init(name: name)
    }

    override var className: String { "FeatureScale" }
    override var supportsMasking: Bool { true }

    override func build(inputShapes: [[Int?]]) throws {
        let features = try knownLastDimension(inputShapes[0], layer: name)
        scale = try addWeight(name: "scale", shape: [features], initializer: .uniform(min: 0.5, max: 1.5))
    }

    override func call(_ input: LayerInput) throws -> LayerOutput {
        LayerOutput([try input.tensors[0] * scale!.value * factor], mask: input.mask)
    }

    override func kerasConfig() throws -> [String: JSONValue] { ["factor": KerasValue.number(factor)] }

    override class func fromKerasConfig(_ arguments: KerasArguments) throws -> Layer {
        FeatureScale(factor: try arguments.float("factor", default: 1), name: arguments.name)
    }
}

@Suite("A layer class of one's own")
struct CustomLayerTests {
    init() { KerasLayerRegistry.register(FeatureScale.self, as: "FeatureScale") }

    @Test func roundTripsThroughAKerasArchive() throws {
        let model = Sequential([LSTM(3, returnSequences: true, inputShape: [4, 2]), FeatureScale(factor: 2.5, name: "scaled"), Dense(2)])
        var generator = SeededGenerator(seed: 7)
        let x = Tensor.randomUniform([5, 4, 2], low: -1, high: 1, generator: &generator)
        let expected = try model.predict(x)
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("custom.keras").path
        try model.save(to: path)

        let loaded = try loadModel(path: path)
        let layer = try #require(loaded.layers.first { $0.name == "scaled" } as? FeatureScale)
        #expect(layer.factor == 2.5)
        #expect(layer.scale?.value.maxAbsDifference(model.layers[1].variables[0].value) == 0)
        expectClose(try loaded.predict(x), expected, tolerance: 0, "predictions after the round trip")
    }

    @Test func addWeightGivesEachInstanceItsOwnReproducibleWeights() throws {
        func twoLayers() throws -> (Tensor, Tensor) {
            let a = FeatureScale(), b = FeatureScale()
            _ = try a.run(LayerInput([Tensor.ones([1, 6])]))
            _ = try b.run(LayerInput([Tensor.ones([1, 6])]))
            return (a.scale!.value, b.scale!.value)
        }
        // withRandomSeed: setRandomSeed's process-wide generator is shared with tests running alongside.
        let (a, b) = try withRandomSeed(21) { try twoLayers() }
        #expect(a.maxAbsDifference(b) > 0, "two instances get different weights")
        let (a2, b2) = try withRandomSeed(21) { try twoLayers() }
        #expect(a2.scalars == a.scalars && b2.scalars == b.scalars, "setRandomSeed reproduces them")
    }

    @Test func unknownArgumentsOfACustomLayerAreRefused() throws {
        let message = thrownMessage {
            _ = try KerasLayerRegistry.layer(className: "FeatureScale", config: ["factor": .number(2), "gain": .number(3)])
        }
        #expect(message.contains("FeatureScale") && message.contains("gain=3"), "\(message)")
    }

    @Test func aBidirectionalCopyOfAConfiguredLayerLeavesTheCallersLayerAlone() throws {
        let lstm = LSTM(4, returnSequences: true, name: "mine")
        let bi = Bidirectional(lstm)
        #expect(bi.forwardLayer !== lstm && bi.backwardLayer !== lstm)
        #expect(bi.forwardLayer.name == "forward_mine" && bi.backwardLayer.name == "backward_mine")
        #expect(!lstm.zeroOutputForMask && !lstm.goBackwards)
        #expect(bi.forwardLayer.zeroOutputForMask && bi.backwardLayer.zeroOutputForMask && bi.backwardLayer.goBackwards)
        #expect((bi.backwardLayer as? FusedRNN)?.cellConfiguration == lstm.cellConfiguration)
    }
}
