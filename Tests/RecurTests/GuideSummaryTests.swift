import Foundation
import Testing
@testable import Recur
import RecurExamples

struct SummaryFixture: Decodable {
    struct Row: Decodable { let name: String; let `class`: String; let output_shape: String; let params: Int }
    let model: String
    let layers: [Row]
    let total_params: Int
    let trainable_params: Int
    let non_trainable_params: Int
    let summary_text: String
}

@Suite("The guide's models print Keras's summary")
struct GuideSummaryTests {
    static let fixtures = try! JSONDecoder().decode([SummaryFixture].self, from: Fixtures.data("summaries.json"))

    static func build(_ name: String) throws -> Model {
        switch name {
        case "guide_1_embedding_lstm": return try KerasGuide.builtInLayers(log: { _ in })
        case "guide_2_gru_simplernn": return try KerasGuide.sequencesIntoAnotherLayer(log: { _ in })
        case "guide_3_encoder_decoder": return try KerasGuide.encoderDecoder(log: { _ in })
        case "guide_4_bidirectional": return try KerasGuide.bidirectional(log: { _ in })
        default: return try GuideModels.mnistRows()
        }
    }

    @Test(arguments: fixtures.map(\.model))
    func summaryMatchesKeras(_ name: String) throws {
        let fixture = Self.fixtures.first { $0.model == name }!
        try withFreshLayerNames {
            let model = try Self.build(name)
            let rows = model.summaryRows()
            #expect(rows.map(\.name) == fixture.layers.map(\.name))
            #expect(rows.map(\.className) == fixture.layers.map(\.class))
            #expect(rows.map(\.shape) == fixture.layers.map(\.output_shape))
            #expect(rows.map(\.parameters) == fixture.layers.map(\.params))
            #expect(model.parameterCount == fixture.total_params)
            #expect(model.trainableVariables.reduce(0) { $0 + $1.value.count } == fixture.trainable_params)
            #expect(model.summaryText() == fixture.summary_text.trimmingCharacters(in: .newlines))
        }
    }

    /// Keras's summary writes a one-axis shape without Python's trailing comma: `(None)`.
    @Test func oneAxisShapesHaveNoTrailingComma() throws {
        #expect(summaryShape([nil]) == "(None)" && summaryShape([nil, 5, 3]) == "(None, 5, 3)" && summaryShape([]) == "()")
        #expect(describeShapes([[nil], [nil, 2]]) == "[(None), (None, 2)]")
    }

    @Test func guideTotalsAreExact() throws {
        try withFreshLayerNames {
            try #expect(KerasGuide.builtInLayers(log: { _ in }).parameterCount == 164_106)
            try #expect(KerasGuide.sequencesIntoAnotherLayer(log: { _ in }).parameterCount == 361_866)
            try #expect(KerasGuide.encoderDecoder(log: { _ in }).parameterCount == 258_698)
            try #expect(KerasGuide.bidirectional(log: { _ in }).parameterCount == 80_266)
        }
    }
}
