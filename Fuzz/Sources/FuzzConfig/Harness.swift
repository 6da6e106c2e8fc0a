import Foundation
@testable import Recur

/// `config.json` bytes → model, as `loadModel` builds it (weights as zeros within a 1 MiB weights
/// file's capacity), compiled from its `compile_config` when it has one; a model that builds is
/// summarised and, when its inputs and outputs are small, run once on zeros, and a compiled one
/// trained for one step on zeros (its optimizer, losses and metrics). Any input must give a model or a
/// `RecurError`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard let root = try? JSONValue.parse(Data(bytes: bytes, count: count), label: "fuzz/config.json") else { return 0 }
    let built = try? WeightsFromFile.building(source: "fuzz/model.weights.h5", bytes: 1 << 20) {
        try withFreshLayerNames { try KerasConfig.model(from: root) }
    }
    guard let model = built else { return 0 }
    _ = model.summaryText()
    func small(_ shapes: [[Int?]]) -> Bool {
        shapes.allSatisfy { UntrustedLimits.elementCount($0.map { $0 ?? 2 }).map { $0 <= 4096 } ?? false }
    }
    guard small(model.inputShapes), small(model.outputShapes) else { return 0 }
    if let compileConfig = root["compile_config"], !compileConfig.isNull {
        try? KerasCompileConfig.compile(model, from: compileConfig, label: "fuzz/config.json")
    }
    let inputs = model.inputShapes.map { Tensor.zeros($0.map { $0 ?? 2 }) }
    _ = try? model.predictOnBatch(inputs)
    if model.compiled != nil {
        _ = try? model.trainOnBatch(inputs, model.outputShapes.map { Tensor.zeros($0.map { $0 ?? 2 }) })
    }
    return 0
}
