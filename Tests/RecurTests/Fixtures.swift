import Foundation
import Testing
@testable import Recur

/// A tensor as stored in the fixture JSON files written by scripts/make_keras_fixtures.py.
struct FixtureTensor: Decodable {
    let shape: [Int]
    let values: [Float]
    var tensor: Tensor { try! Tensor(shape: shape, scalars: values) }
}

/// One layer case: Keras's outputs and gradients for given weights and inputs.
struct LayerFixture: Decodable {
    let `case`: String
    let `class`: String
    let config: [String: JSONValue]
    let inputs: [FixtureTensor]
    let training: Bool
    let weights: [FixtureTensor]
    let outputs: [FixtureTensor]
    let cotangents: [FixtureTensor]
    let loss: Float
    let grad_inputs: [FixtureTensor]?
    let grad_weights: [FixtureTensor]
    let updated_weights: [FixtureTensor]?
    let mask: FixtureTensor?
    /// A layer called on a list of inputs (Attention): every input is one, none an initial state,
    /// with a mask per input (nil for none) and Keras call arguments.
    let multi_input: Bool?
    let input_masks: [FixtureTensor?]?
    let call_arguments: [String: JSONValue]?
}

enum Fixtures {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    static func layer(_ name: String) throws -> LayerFixture {
        try JSONDecoder().decode(LayerFixture.self, from: data("layers/\(name).json"))
    }

    static var layerCases: [String] {
        let dir = directory.appendingPathComponent("layers")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}

/// `"LSTMCell(4)"` (the fixture's shorthand) → a Keras cell spec.
func cellSpec(_ shorthand: JSONValue) -> JSONValue {
    guard let s = shorthand.string, let open = s.firstIndex(of: "("), let units = Int(s[s.index(after: open)..<s.index(before: s.endIndex)]) else {
        return shorthand
    }
    return .object(["class_name": .string(String(s[..<open])), "config": .object(["units": .number(Double(units))])])
}

/// Builds the fixture's layer with Recur's Keras config reader.
func makeLayer(_ fixture: LayerFixture) throws -> Layer {
    var config = fixture.config
    if let cell = config["cell"] { config["cell"] = cellSpec(cell) }
    if let cells = config["cells"]?.array { config["cell"] = .array(cells.map(cellSpec)); config["cells"] = nil }
    return try KerasLayerRegistry.layer(className: fixture.class, config: config)
}

func expectClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float = 1e-5, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let diff = actual.maxAbsDifference(expected)
    #expect(diff <= tolerance, "\(what): max difference \(diff)", sourceLocation: sourceLocation)
}

/// Fixtures from scripts/make_keras_parity_fixtures.py (Fixtures/parity): numbers from real Keras.
enum ParityFixtures {
    static let directory = Fixtures.directory.appendingPathComponent("parity")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    static func json(_ name: String) throws -> JSONValue {
        try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent(name)), label: name)
    }

    /// The model Keras saved as NAME.keras, loaded, with the inputs and Keras's outputs of NAME.npz
    /// (input_i, output_i).
    static func model(_ name: String, in directory: URL = directory) throws -> (model: Model, inputs: [Tensor], outputs: [Tensor]) {
        let file = { (suffix: String) in directory.appendingPathComponent(name + suffix).path }
        let arrays = try NumpyFile.loadNpz(path: file(".npz"))
        return (try loadModel(path: file(".keras")), (0..<arrays.count).compactMap { arrays["input_\($0)"] },
                (0..<arrays.count).compactMap { arrays["output_\($0)"] })
    }
}

/// Parity model NAME (Keras's file) predicts what Keras predicted and round-trips through Recur's own files.
func expectParityModelMatchesKeras(_ name: String, in directory: URL = ParityFixtures.directory,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (model, inputs, expected) = try ParityFixtures.model(name, in: directory)
    let outputs = try model.predict(inputs)
    #expect(outputs.count == expected.count, sourceLocation: sourceLocation)
    for (k, (out, want)) in zip(outputs, expected).enumerated() { expectClose(out, want, "\(name) output \(k)", sourceLocation: sourceLocation) }
    try expectKerasRoundTrip([(name, model, inputs)], sourceLocation: sourceLocation)
}

extension JSONValue {
    /// A `{"shape", "values"}` fixture array.
    var fixtureTensor: Tensor {
        get throws {
            try Tensor(shape: (self["shape"]?.array ?? []).compactMap(\.int), scalars: (self["values"]?.array ?? []).compactMap(\.double).map(Float.init))
        }
    }
}
