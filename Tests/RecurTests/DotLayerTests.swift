import Foundation
import Testing
@testable import Recur

/// `Dot` beyond its layer fixtures (outputs and gradients against Keras, in KerasLayerFixtureTests):
/// Keras's Luong-style attention built from Dot layers, names, shapes and the errors.
@Suite("Dot")
struct DotLayerTests {
    /// Scores = Dot(axes=2), softmax, context = Dot(axes=[2, 1]), concatenated with the decoder, and a
    /// cosine Dot(normalize): the Keras model predicts what Keras predicted and round-trips.
    @Test func kerasAttentionModelMatchesKeras() throws {
        try expectParityModelMatchesKeras("dot_attention")
    }

    /// Keras's name and output shapes (x's other axes, then y's; a rank-1 result as (batch, 1)), no
    /// output mask, and refusals naming the layer.
    @Test func shapesMasksAndErrors() throws {
        withFreshLayerNames { #expect(Dot(axes: 1).name == "dot") }
        let cases: [(Dot, [[Int?]], [Int?])] = [
            (Dot(axes: 2), [[nil, 4, 3], [nil, 5, 3]], [nil, 4, 5]), (Dot(axes: [2, 1]), [[nil, 4, 5], [nil, 5, 3]], [nil, 4, 3]),
            (Dot(axes: 1), [[nil, 4], [nil, 4]], [nil, 1]), (Dot(axes: [-1, -1]), [[2, 4], [2, 5, 4]], [2, 5]),
            (Dot(axes: [3, 1]), [[nil, 3, 2, 4], [nil, 4, 3]], [nil, 3, 2, 3]),
        ]
        for (layer, shapes, expected) in cases {
            let out = try layer.outputShapes(inputShapes: shapes, initialStateShapes: [])
            #expect(out == [expected], "\(layer.axes)")
        }
        var g = SeededGenerator(seed: 1)
        let (x, y) = (Tensor.randomUniform([2, 3, 4], generator: &g), Tensor.randomUniform([2, 5, 4], generator: &g))
        let output = try Dot(axes: 2).run(LayerInput([x, y], masks: [Tensor.ones([2, 3]), Tensor.ones([2, 5])]))
        #expect(output.mask == nil && output.tensors[0].shape == [2, 3, 5])

        #expect(throws: RecurError.self) { try Dot(axes: 2).outputShapes(inputShapes: [[nil, 4, 3], [nil, 5, 2]], initialStateShapes: []) }
        #expect(throws: RecurError.self) { try Dot(axes: 0).outputShapes(inputShapes: [[nil, 4], [nil, 4]], initialStateShapes: []) }
        #expect(throws: RecurError.self) { try Dot(axes: 3).outputShapes(inputShapes: [[nil, 4, 3], [nil, 4, 3]], initialStateShapes: []) }
        #expect(throws: RecurError.self) { try Dot(axes: 1).outputShapes(inputShapes: [[nil, 4]], initialStateShapes: []) }
        for axes in [JSONValue.array([.number(1), .number(2), .number(1)]), .string("last"), .array([.number(1_000_000), .number(1)])] {
            #expect(throws: RecurError.self) { try KerasLayerRegistry.layer(className: "Dot", config: ["axes": axes]) }
        }
    }

    /// With RECUR_KERAS_EXPORT_DIR set, writes the attention model for `--check-recur DIR`.
    @Test(.enabled(if: kerasExportDirectory != nil))
    func exportForKerasCheck() throws {
        let (model, inputs, _) = try ParityFixtures.model("dot_attention")
        try writeForKerasCheck([("dot_attention", model, inputs)], to: kerasExportDirectory!)
    }
}
