import Foundation
import Recur

/// IDX bytes (raw or gzip) → tensor: any input must give a tensor or a `RecurError`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? IDX.read(Data(bytes: bytes, count: count), path: "fuzz.idx")
    return 0
}
