import Foundation
import Testing
@testable import Recur

/// Keras's weight and activity regularizers and weight constraints: models Keras compiled with them
/// and trained a few steps (scripts/make_keras_regularization_fixtures.py), the formulas, files both
/// ways and the refusals.
@Suite("Regularizers and constraints")
struct RegularizationTests {
    /// The same steps as Keras's train_on_batch give the losses it reported (penalties included) and
    /// the weights it ended with (constraints applied after every update); evaluate includes the
    /// penalties too.
    @Test(arguments: ["lstm_dense", "embedding_bidirectional", "orthogonal", "normalizations"])
    func trainingMatchesKeras(_ name: String) throws {
        let arrays = try NumpyFile.loadNpz(path: ParityFixtures.path("regularized_\(name).npz"))
        let model = try loadModel(path: ParityFixtures.path("regularized_\(name).keras"))
        let x = (0..<arrays.count).compactMap { arrays["input_\($0)"] }, y = [try #require(arrays["target_0"])]
        for k in 0..<3 {
            let logs = try model.trainOnBatch(x, y)
            let expected = try #require(arrays["loss_\(k)"]).scalar
            #expect(abs((logs["loss"] ?? .nan) - expected) <= 2e-5 * max(1, abs(expected)), "\(name) step \(k): \(logs["loss"] ?? .nan) vs \(expected)")
        }
        let weights = model.getWeights()
        #expect(weights.count == (0..<arrays.count).compactMap { arrays["weight_\($0)"] }.count)
        for (i, w) in weights.enumerated() { expectClose(w, try #require(arrays["weight_\(i)"]), tolerance: 1e-4, "\(name) weight \(i)") }
        let evaluated = try model.evaluate(x, y, verbose: 0)["loss"] ?? .nan
        let expected = try #require(arrays["eval_loss"]).scalar
        #expect(abs(evaluated - expected) <= 1e-4 * max(1, abs(expected)), "\(name) evaluate: \(evaluated) vs \(expected)")
    }

    /// Recur's files keep every rule (Keras's serialized objects), and a reloaded model trains alike.
    @Test func rulesRoundTripThroughFiles() throws {
        let model = try loadModel(path: ParityFixtures.path("regularized_lstm_dense.keras"))
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.keras").path
        try model.save(to: path)
        let reloaded = try loadModel(path: path)
        for (a, b) in zip(model.layers, reloaded.layers) {
            #expect(a.weightRegularizers == b.weightRegularizers && a.weightConstraints == b.weightConstraints
                    && a.activityRegularizer == b.activityRegularizer, "\(a.name)")
        }
        let lstm = try #require(reloaded.layers.first as? LSTM)
        #expect(lstm.weightRegularizers == ["kernel": .l2(0.01), "recurrent_kernel": .l1(0.02), "bias": .l1l2(l1: 0.01, l2: 0.02)])
        #expect(lstm.weightConstraints == ["kernel": .maxNorm(maxValue: 1), "recurrent_kernel": .unitNorm()])
        #expect(lstm.activityRegularizer == .l2(0.05))
    }

    /// The penalty and constraint formulas on known values.
    @Test func formulas() throws {
        let w = try Tensor(shape: [2, 2], scalars: [3, -4, 0, 1])
        #expect(abs(try Regularizer.l1(0.5).penalty(of: w).scalar - 4) < 1e-6)
        #expect(abs(try Regularizer.l2(0.1).penalty(of: w).scalar - 2.6) < 1e-6)
        #expect(abs(try Regularizer.l1l2(l1: 1, l2: 1).penalty(of: w).scalar - 34) < 1e-5)
        // Unit rows (0.6, −0.8) and (0, 1): one pair, |dot| 0.8, counted twice and halved. Unit columns
        // (1, 0) and (−4, 1)/√17: |dot| 4/√17. A zero row stays zero (its inverse norm is capped at 1/ε).
        #expect(abs(try Regularizer.orthogonal(factor: 0.5).penalty(of: w).scalar - 0.4) < 1e-6)
        #expect(abs(try Regularizer.orthogonal(factor: 1, mode: .columns).penalty(of: w).scalar - 4 / Float(17).squareRoot()) < 1e-6)
        let withZeroRow = try Tensor(shape: [3, 2], scalars: [3, -4, 0, 1, 0, 0])
        #expect(abs(try Regularizer.orthogonal(factor: 0.5).penalty(of: withZeroRow).scalar - 0.8 / 3 * 0.5) < 1e-6)
        #expect(try WeightConstraint.nonNeg.apply(to: w).scalars == [3, 0, 0, 1])
        // Column norms 3 and √17: MaxNorm(2) scales both to 2, UnitNorm to 1; over axis 1 the rows.
        let root17 = Float(17).squareRoot()
        expectClose(try WeightConstraint.maxNorm(maxValue: 2).apply(to: w), try Tensor(shape: [2, 2], scalars: [2, -8 / root17, 0, 2 / root17]), "maxNorm")
        expectClose(try WeightConstraint.unitNorm(axes: [1]).apply(to: w), try Tensor(shape: [2, 2], scalars: [0.6, -0.8, 0, 1]), "unitNorm")
        // MinMaxNorm(0.5, 1, rate 0.5) of column norm 3: 0.5·1 + 0.5·3 = 2.
        let mixed = try WeightConstraint.minMaxNorm(minValue: 0.5, maxValue: 1, rate: 0.5).apply(to: try Tensor(shape: [1, 1], scalars: [3]))
        #expect(abs(mixed.scalar - 2) < 1e-5)
    }

    /// A rule for a weight Keras does not name, and unknown or invalid rules in a file, are refused by name.
    @Test func refusals() throws {
        // A misspelt weight name is refused; a bias regularizer without a bias is ignored, as in Keras.
        let model = Sequential([Dense(2, useBias: false)], inputShape: [3])
        model.layers[0].weightRegularizers["kernal"] = .l2()
        try model.compile(optimizer: SGD(), loss: MeanSquaredError())
        #expect(throws: RecurError.self) { try model.trainOnBatch([Tensor.zeros([2, 3])], [Tensor.zeros([2, 2])]) }
        model.layers[0].weightRegularizers = ["bias": .l2(), "kernel": .l1()]
        let kernel = try #require(model.layers[0].variables.first).value
        let predictions = try Tensor.ones([2, 3]).matmul(kernel)
        let expected = try (predictions * predictions).mean().scalar + 0.01 * kernel.abs().sum().scalar
        let logs = try model.trainOnBatch([Tensor.ones([2, 3])], [Tensor.zeros([2, 2])])
        #expect(abs((logs["loss"] ?? .nan) - expected) < 1e-5, "\(logs)")
        let refused: [(String, JSONValue)] = [
            ("kernel_regularizer", .object(["class_name": "SpectralRegularizer", "config": .object([:])])),
            ("kernel_regularizer", .object(["class_name": "OrthogonalRegularizer", "config": .object(["mode": "diagonal"])])),
            ("kernel_regularizer", .object(["class_name": "OrthogonalRegularizer", "config": .object(["factor": .number(-0.1)])])),
            ("kernel_regularizer", .object(["class_name": "OrthogonalRegularizer", "config": .object(["l2": .number(0.1)])])),
            ("kernel_regularizer", .object(["class_name": "L2", "config": .object(["l2": .number(-1)])])),
            ("kernel_regularizer", .object(["class_name": "L1", "config": .object(["l2": .number(1)])])),
            ("kernel_constraint", .object(["class_name": "MaxNorm", "config": .object(["max_value": .number(1), "axis": .number(99)])])),
            ("kernel_constraint", .string("radial_constraint")),
        ]
        for (key, value) in refused {
            #expect(throws: RecurError.self, "\(key) \(value)") {
                try KerasLayerRegistry.layer(className: "Dense", config: ["units": .number(2), key: value])
            }
        }
    }

    /// An orthogonal regularizer of a weight that is not a matrix throws at the first step, naming the
    /// layer and the weight (Keras raises a ValueError there too); files keep its factor and mode.
    @Test func orthogonalRegularizerNeedsAMatrix() throws {
        let conv = Conv1D(2, kernelSize: 2, name: "conv")
        conv.weightRegularizers["kernel"] = .orthogonal()
        let model = Sequential([conv], inputShape: [4, 3])
        try model.compile(optimizer: SGD(), loss: MeanSquaredError())
        let message = thrownMessage { try model.trainOnBatch([Tensor.zeros([2, 4, 3])], [Tensor.zeros([2, 3, 2])]) }
        #expect(message.contains("conv") && message.contains("kernel") && message.contains("(2, 3, 2)"), "\(message)")

        let layer = try KerasLayerRegistry.layer(className: "Dense", config: [
            "units": .number(2), "kernel_regularizer": .object(["class_name": "OrthogonalRegularizer", "config": .object(["factor": .number(0.3), "mode": "columns"])]),
        ])
        #expect(layer.weightRegularizers["kernel"] == .orthogonal(factor: 0.3, mode: .columns))
        let reread = try Regularizer(keras: try #require(layer.weightRegularizers["kernel"]).kerasConfig, what: "kernel_regularizer")
        #expect(reread == .orthogonal(factor: 0.3, mode: .columns))
    }

    /// With RECUR_KERAS_EXPORT_DIR set, writes the models as Recur saves them, for `--check-recur DIR`.
    @Test(.enabled(if: kerasExportDirectory != nil))
    func exportForKerasCheck() throws {
        var models: [(String, Model, [Tensor])] = []
        for name in ["lstm_dense", "embedding_bidirectional", "orthogonal"] {
            let arrays = try NumpyFile.loadNpz(path: ParityFixtures.path("regularized_\(name).npz"))
            models.append(("regularized_\(name)", try loadModel(path: ParityFixtures.path("regularized_\(name).keras")), [try #require(arrays["input_0"])]))
        }
        try writeForKerasCheck(models, to: kerasExportDirectory!)
    }
}
