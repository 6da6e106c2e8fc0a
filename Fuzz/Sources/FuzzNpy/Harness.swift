import Foundation
import Recur

/// `.npy` bytes → tensor: any input must give a tensor or a `RecurError`, nothing else.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? NumpyFile.readNpy(Data(bytes: bytes, count: count), path: "fuzz.npy")
    return 0
}
