import Foundation
import Testing
@testable import Recur

/// Fixtures from scripts/make_keras_parity_fixtures.py (Fixtures/parity): numbers from real Keras.
enum ParityFixtures {
    static let directory = Fixtures.directory.appendingPathComponent("parity")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    static func json(_ name: String) throws -> JSONValue {
        try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent(name)), label: name)
    }
}

extension JSONValue {
    /// A `{"shape", "values"}` fixture array.
    var fixtureTensor: Tensor {
        get throws {
            try Tensor(shape: (self["shape"]?.array ?? []).compactMap(\.int), scalars: (self["values"]?.array ?? []).compactMap(\.double).map(Float.init))
        }
    }
}

@Suite("Keras parity: metrics, losses")
struct KerasParityTests {
    static let accuracyCases: [String] = {
        (try? ParityFixtures.json("binary_accuracy.json"))?["cases"]?.array?.compactMap { $0["case"]?.string } ?? []
    }()

    /// `evaluate` with `metrics: ["accuracy"]` on every label/prediction shape Keras accepts, against
    /// Keras's own `evaluate` (labels (n,) against a sigmoid's (n, 1) used to broadcast to (n, n)).
    @Test(arguments: accuracyCases)
    func accuracyAndLossMatchKerasEvaluate(_ name: String) throws {
        let all = try ParityFixtures.json("binary_accuracy.json")["cases"]!.array!
        let c = all.first { $0["case"]?.string == name }!
        let spec = c["model"]!["layers"]!.array![0]
        let x = try c["x"]!.fixtureTensor, y = try c["y"]!.fixtureTensor
        let model = try withFreshLayerNames {
            try Sequential([Dense(spec["units"]!.int!, activation: Activation(rawValue: spec["activation"]!.string!)!)],
                           inputShape: spec["input_shape"]!.array!.map(\.int))
        }
        try model.setWeights(c["model"]!["weights"]!.array!.map { try $0.fixtureTensor })
        try model.compile(optimizer: SGD(), loss: lossNamed(c["compile"]!["loss"]!.string!), metrics: ["accuracy"])
        let logs = try model.evaluate(x, y, batchSize: x.shape[0], verbose: 0)
        let expected = c["evaluate"]!
        #expect(abs(logs["accuracy"]! - Float(expected["accuracy"]!.double!)) < 1e-6, "\(name): \(logs)")
        #expect(abs(logs["loss"]! - Float(expected["loss"]!.double!)) < 1e-6, "\(name): \(logs)")
    }

    @Test func mismatchedLabelsAreAnErrorNotABroadcast() throws {
        let p = try Tensor(shape: [4, 1], scalars: [0.9, 0.1, 0.8, 0.3])
        #expect(throws: RecurError.self) { _ = try Metric.binaryAccuracy.perSample(Tensor.zeros([3]), p) }
        #expect(throws: RecurError.self) { _ = try Metric.sparseCategoricalAccuracy.perSample(Tensor.zeros([4, 2]), Tensor.zeros([4, 3])) }
    }
}
