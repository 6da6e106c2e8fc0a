import Foundation
import Testing
@testable import Recur

/// Models on which `scripts/keras_differential.py` (random models, Recur against Keras) once found
/// Recur differing from Keras, kept with Keras's inputs, outputs and summary (Fixtures/differential/:
/// NAME.keras, NAME.npz with input_i and output_i, NAME.summary.txt).
@Suite struct DifferentialCaseTests {
    static let directory = Fixtures.directory.appendingPathComponent("differential")

    static var caseNames: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".keras") }.map { String($0.dropLast(".keras".count)) }.sorted()
    }

    @Test func everyCaseIsKept() {
        #expect(Self.caseNames.count >= 1, "no cases under \(Self.directory.path)")
    }

    /// Keras's outputs (1e-5), its summary line for line, and a round trip through Recur's own files.
    @Test(arguments: caseNames) func caseMatchesKeras(_ name: String) throws {
        try expectParityModelMatchesKeras(name, in: Self.directory)
        let summary = try String(contentsOf: Self.directory.appendingPathComponent("\(name).summary.txt"), encoding: .utf8)
        let model = try loadModel(path: Self.directory.appendingPathComponent("\(name).keras").path)
        #expect(model.summaryText() == summary.trimmingCharacters(in: .newlines), "\(model.summaryText())")
    }

    /// Keras compiles from a saved compile config only when it is there and not empty: `{}`, as an
    /// uncompiled model may save, loads the model uncompiled without a warning.
    @Test func anEmptyCompileConfigIsNoCompileConfig() throws {
        #expect(KerasArchive.compileConfig(of: try JSONValue.parse(Data(#"{"compile_config": {}}"#.utf8), label: "test")) == nil)
        #expect(KerasArchive.compileConfig(of: try JSONValue.parse(Data(#"{"compile_config": null}"#.utf8), label: "test")) == nil)
        #expect(KerasArchive.compileConfig(of: try JSONValue.parse(Data(#"{"compile_config": {"loss": "mse"}}"#.utf8), label: "test")) != nil)
    }
}
