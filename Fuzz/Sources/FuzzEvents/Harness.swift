import Foundation
import Recur

/// TensorBoard event-file bytes → events: any input must give events or a `RecurError`, nothing else.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? TensorBoardEventFile.events(in: Data(bytes: bytes, count: count), path: "fuzz.tfevents")
    return 0
}
