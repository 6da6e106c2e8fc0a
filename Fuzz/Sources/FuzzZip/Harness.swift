import Foundation
import Recur

/// ZIP bytes → every entry's contents, and the `.npz` reader over the same bytes: any input must give
/// data or a `RecurError`, within the declared sizes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    if let archive = try? ZipArchive(data: data, path: "fuzz.zip") {
        for entry in archive.entries { _ = try? archive.contents(named: entry.name, limit: 1 << 24) }
    }
    _ = try? NumpyFile.readNpz(data, path: "fuzz.npz")
    return 0
}
