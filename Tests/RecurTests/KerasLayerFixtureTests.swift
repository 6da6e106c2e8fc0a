import Testing
@testable import Recur

@Suite("Layers match real Keras (outputs and gradients)")
struct KerasLayerFixtureTests {
    @Test(arguments: Fixtures.layerCases)
    func layerMatchesKeras(_ name: String) throws {
        let fixture = try Fixtures.layer(name)
        let layer = try makeLayer(fixture)
        let isEmbedding = fixture.class == "Embedding"
        // The first input is the data; any further ones are initial states.
        let inputs = fixture.inputs.map(\.tensor)
        let multiInput = fixture.multi_input ?? false
        for (key, value) in fixture.call_arguments ?? [:] { #expect(try layer.readKerasCallArgument(key, value), "\(name): \(key)") }
        try layer.buildIfNeeded(inputShapes: (multiInput ? inputs : [inputs[0]]).map { $0.shape.map(Optional.some) })
        try layer.setWeights(fixture.weights.map(\.tensor))

        let leafInputs = isEmbedding ? inputs : inputs.map { $0.requiringGradient() }
        let trainable = layer.trainableVariables
        for v in trainable { v.value = v.value.requiringGradient() }
        let outputs = multiInput
            ? try layer.run(LayerInput(leafInputs, masks: fixture.input_masks?.map { $0?.tensor }, training: fixture.training)).tensors
            : try layer.outputs(leafInputs[0], initialState: Array(leafInputs.dropFirst()), mask: fixture.mask?.tensor, training: fixture.training)
        #expect(outputs.count == fixture.outputs.count)
        for (k, (out, expected)) in zip(outputs, fixture.outputs).enumerated() {
            expectClose(out, expected.tensor, "\(name) output \(k)")
            #expect(!out.scalars.contains { $0.isNaN }, "\(name) output \(k) has NaN")
        }
        var loss = Tensor(0)
        for (out, cot) in zip(outputs, fixture.cotangents) { loss = try loss + (out * cot.tensor).sum() }
        #expect(abs(loss.scalar - fixture.loss) <= 1e-5 * max(1, abs(fixture.loss)))

        let wrt = (isEmbedding ? [] : leafInputs) + trainable.map(\.value)
        let grads = try gradients(of: loss, wrt: wrt)
        let expectedGrads = (fixture.grad_inputs ?? []) + fixture.grad_weights
        #expect(grads.count == expectedGrads.count)
        for (k, (g, e)) in zip(grads, expectedGrads).enumerated() {
            expectClose(g, e.tensor, "\(name) gradient \(k)")
        }
        if let updated = fixture.updated_weights {
            for (k, (v, e)) in zip(layer.getWeights(), updated).enumerated() {
                expectClose(v.detached, e.tensor, "\(name) updated weight \(k)")
            }
        }
    }
}
