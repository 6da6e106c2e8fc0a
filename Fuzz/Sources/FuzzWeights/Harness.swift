import Foundation
@testable import Recur

/// The model the weights are read into: Sequential([Input((4, 3)), LSTM(4), Dense(2)]), whose Keras
/// `.weights.h5` the seed corpus holds.
let model: Model = try! withFreshLayerNames { try Sequential([LSTM(4), Dense(2)], inputShape: [4, 3]) }

/// `.weights.h5` bytes → the model's weights: any input must load or give a `RecurError`, opening no
/// other file and allocating nothing beyond the model's own weight shapes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    try? KerasWeightsFile.load(into: model, image: Data(bytes: bytes, count: count), label: "fuzz.weights.h5")
    return 0
}
