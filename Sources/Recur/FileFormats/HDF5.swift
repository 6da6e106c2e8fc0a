import CHDF5
import Foundation

/// A small wrapper over HDF5's C API: exactly what Keras weight files need (groups, float datasets,
/// string attributes). The serial HDF5 library is not thread-safe, so every use goes through
/// `HDF5File.withLock`.
///
/// Files are opened from bytes in memory and created in memory (HDF5's core driver), so reading and
/// writing never leave temporary files behind. Reading is for files from anyone: only hard links are
/// followed (soft and external links are refused), datasets with external storage, virtual datasets and
/// filters other than deflate/shuffle/Fletcher-32 are refused before any data is read, filter plugins
/// are never loaded, a dataset's shape must match the weight it is read for before anything is
/// allocated, and group walks detect cycles and stop at `UntrustedLimits`.
final class HDF5File {
    /// Names the file in errors.
    let label: String
    private var id: hid_t
    /// The file's bytes when it was opened from memory (contiguous datasets are decoded from them).
    private let bytes: Data?

    private static let lock = NSRecursiveLock()
    nonisolated(unsafe) private static var prepared = false

    /// Runs `body` holding the process-wide HDF5 lock.
    static func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        if !prepared {
            _ = recur_h5_prepare_library()
            prepared = true
        }
        return try body()
    }

    private init(label: String, id: hid_t, bytes: Data? = nil) {
        self.label = label
        self.id = id
        self.bytes = bytes
    }

    /// Whether the HDF5 signature (`\x89HDF\r\n\x1a\n`) is at 0, or after a user block at 512, 1024,
    /// 2048, ... bytes: the places libhdf5 looks for the superblock (h5py writes a user block when
    /// asked to).
    static func hasSignature(_ image: Data) -> Bool {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        var offset = 0
        while offset + signature.count <= image.count {
            let start = image.startIndex + offset
            if image[start..<(start + signature.count)].elementsEqual(signature) { return true }
            offset = offset == 0 ? 512 : offset * 2
        }
        return false
    }

    /// Opens the HDF5 file whose bytes are `image`, read-only.
    static func open(image: Data, label: String) throws -> HDF5File {
        guard hasSignature(image) else {
            throw RecurError.io(path: label, message: "not an HDF5 file (bad signature or truncated)")
        }
        // libhdf5 can crash on corrupt files: every call Recur makes runs first in a child process.
        switch image.withUnsafeBytes({ recur_h5_probe_image($0.baseAddress, $0.count, 60_000) }) {
        case 1: throw RecurError.io(path: label, message: "corrupt HDF5 file (the HDF5 library crashed or failed reading it, in a child process)")
        case 2: throw RecurError.io(path: label, message: "corrupt HDF5 file (the HDF5 library did not finish reading it within 60 s)")
        default: break
        }
        let id = image.withUnsafeBytes { recur_h5_open_image($0.baseAddress, $0.count) }
        guard id >= 0 else { throw RecurError.io(path: label, message: "HDF5 cannot open the file (corrupt or truncated?)") }
        return HDF5File(label: label, id: id, bytes: image)
    }

    /// Creates an empty file in memory; `image()` returns its bytes once written.
    static func createInMemory(label: String) throws -> HDF5File {
        let id = recur_h5_create_in_memory()
        guard id >= 0 else { throw RecurError.io(path: label, message: "HDF5 cannot create the file") }
        return HDF5File(label: label, id: id)
    }

    deinit { if id >= 0 { H5Fclose(id) } }

    /// The file's bytes (flushed first).
    func image() throws -> Data {
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw fail("cannot flush the file") }
        let size = H5Fget_file_image(id, nil, 0)
        guard size > 0 else { throw fail("cannot read back the written file") }
        var data = Data(count: size)
        let copied = data.withUnsafeMutableBytes { H5Fget_file_image(id, $0.baseAddress, size) }
        guard copied == size else { throw fail("cannot read back the written file") }
        return data
    }

    /// Closes the file; later calls do nothing.
    func close() throws {
        guard id >= 0 else { return }
        let status = H5Fclose(id)
        id = -1
        guard status >= 0 else { throw fail("cannot close the file") }
    }

    private func fail(_ message: String) -> RecurError { .io(path: label, message: message) }

    /// What is at `objectPath` ("a/b/c", relative to the root).
    enum Kind { case missing, group, dataset, other }

    /// What is at `objectPath`, reached through hard links only: a soft or external link on the way is
    /// refused (an external link would open another file), as is a path deeper than
    /// `UntrustedLimits.maxNestingDepth`.
    func kind(of objectPath: String) throws -> Kind {
        if objectPath.isEmpty { return .group }
        let parts = objectPath.split(separator: "/")
        guard parts.count <= UntrustedLimits.maxNestingDepth else {
            throw fail("'\(objectPath)' is nested deeper than \(UntrustedLimits.maxNestingDepth) groups")
        }
        var prefix = ""
        for part in parts {
            prefix += prefix.isEmpty ? String(part) : "/" + part
            switch recur_h5_link_kind(id, prefix) {
            case -1: return .missing
            case 0: continue
            case 1: throw fail("'\(prefix)' is a soft link; Recur follows only hard links (Keras writes no others)")
            case 2: throw fail("'\(prefix)' is an external link to another file; refused (Keras refuses them too)")
            default: throw fail("'\(prefix)' is a link of an unknown kind; refused")
            }
        }
        switch recur_h5_object_kind(id, objectPath) {
        case 1: return .group
        case 2: return .dataset
        case 0: return .other
        default: return .missing
        }
    }

    /// The names of the links in the group at `groupPath`, in name order.
    func memberNames(_ groupPath: String) throws -> [String] {
        guard try kind(of: groupPath) == .group else { throw fail("'\(groupPath)' is not a group") }
        let name = groupPath.isEmpty ? "." : groupPath
        var info = H5G_info_t()
        guard H5Gget_info_by_name(id, name, &info, recur_h5p_default()) >= 0 else {
            throw fail("cannot list group '\(groupPath)'")
        }
        guard info.nlinks <= UInt64(UntrustedLimits.maxHDF5Objects) else {
            throw fail("group '\(groupPath)' has \(info.nlinks) members; at most \(UntrustedLimits.maxHDF5Objects) are read")
        }
        var names: [String] = []
        for i in 0..<info.nlinks {
            let size = H5Lget_name_by_idx(id, name, H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, recur_h5p_default())
            guard size >= 0, size < 1 << 16 else { throw fail("cannot read a link name in '\(groupPath)'") }
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            _ = H5Lget_name_by_idx(id, name, H5_INDEX_NAME, H5_ITER_INC, i, &buffer, Int(size) + 1, recur_h5p_default())
            names.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// Every group path under `groupPath` (itself excluded), depth first. Iterative; a group reached a
    /// second time (a hard-link cycle or a shared group) is listed once and not walked again, and the
    /// walk stops with an error after `UntrustedLimits.maxHDF5Objects` objects.
    func allGroups(under groupPath: String = "") throws -> [String] {
        var out: [String] = []
        var visited = Set<UInt64>()
        var stack = [groupPath]
        var seen = 0
        while let group = stack.popLast() {
            var address: UInt64 = 0
            guard recur_h5_object_address(id, group.isEmpty ? "." : group, &address) == 0 else {
                throw fail("cannot read the object at '\(group)'")
            }
            guard visited.insert(address).inserted else { continue }
            if group != groupPath { out.append(group) }
            var children: [String] = []
            for member in try memberNames(group) {
                seen += 1
                guard seen <= UntrustedLimits.maxHDF5Objects else {
                    throw fail("more than \(UntrustedLimits.maxHDF5Objects) objects under '\(groupPath)'")
                }
                let child = group.isEmpty ? member : "\(group)/\(member)"
                if try kind(of: child) == .group { children.append(child) }
            }
            stack += children.reversed()
        }
        return out
    }

    /// Reads the numeric dataset at `datasetPath` as Float32 (HDF5 converts from its stored type),
    /// after checking that it is safe to read and that its shape is `expectedShape`; `weight` names
    /// the weight in errors.
    func readTensor(_ datasetPath: String, expectedShape: [Int], weight: String) throws -> Tensor {
        guard try kind(of: datasetPath) == .dataset else { throw fail("'\(datasetPath)' is not a dataset") }
        let ds = H5Dopen2(id, datasetPath, recur_h5p_default())
        guard ds >= 0 else { throw fail("cannot open dataset '\(datasetPath)'") }
        defer { H5Dclose(ds) }
        var filter: Int32 = 0
        switch recur_h5_dataset_refusal(ds, &filter) {
        case 0: break
        case 1: throw fail("dataset '\(datasetPath)' is a virtual dataset (its data would come from other files); refused")
        case 2: throw fail("dataset '\(datasetPath)' has external storage (its data would come from other files); refused")
        case 3: throw fail("dataset '\(datasetPath)' uses HDF5 filter \(filter); only deflate, shuffle and Fletcher-32 are read")
        default: throw fail("cannot read the creation properties of dataset '\(datasetPath)'")
        }
        let type = H5Dget_type(ds)
        guard type >= 0 else { throw fail("cannot read the type of '\(datasetPath)'") }
        defer { H5Tclose(type) }
        guard recur_h5_type_is_standard_numeric(type) != 0 else {
            throw fail("dataset '\(datasetPath)' is not a numeric array of standard integers or IEEE floats (16, 32 or 64 bits)")
        }
        let space = H5Dget_space(ds)
        guard space >= 0 else { throw fail("cannot read the shape of '\(datasetPath)'") }
        defer { H5Sclose(space) }
        guard H5Sget_simple_extent_type(space) != H5S_NULL else { throw fail("dataset '\(datasetPath)' has no data space") }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard (0...UntrustedLimits.maxRank).contains(rank) else {
            throw fail("dataset '\(datasetPath)' has rank \(rank); at most \(UntrustedLimits.maxRank) is read")
        }
        var dims = [hsize_t](repeating: 0, count: rank)
        if rank > 0 { guard H5Sget_simple_extent_dims(space, &dims, nil) == rank else { throw fail("cannot read the shape of '\(datasetPath)'") } }
        let shape = dims.map { $0 <= UInt64(Int.max) ? Int($0) : -1 }
        guard shape == expectedShape else {
            throw RecurError.shapeMismatch(op: "\(label): weight '\(datasetPath)' for \(weight)",
                                           expected: describeShape(expectedShape), actual: describeShape(dims.map { Int(clamping: $0) }))
        }
        let count = UntrustedLimits.elementCount(shape) ?? 0
        switch recur_h5_dataset_layout(ds) {
        case 1:
            return try Tensor(shape: shape, scalars: contiguousData(ds, type: type, count: count, datasetPath))
        case 2:
            // Chunked (possibly deflated): libhdf5 reads it; its filters were checked above.
            var scalars = [Float](repeating: 0, count: count)
            if count > 0 {
                let status = scalars.withUnsafeMutableBytes { raw in
                    H5Dread(ds, recur_h5t_native_float(), recur_h5s_all(), recur_h5s_all(), recur_h5p_default(), raw.baseAddress)
                }
                guard status >= 0 else { throw fail("cannot read dataset '\(datasetPath)' (corrupt or truncated file?)") }
            }
            return try Tensor(shape: shape, scalars: scalars)
        default:
            throw fail("dataset '\(datasetPath)' has a storage layout Recur does not read (Keras writes contiguous datasets)")
        }
    }

    /// A contiguous dataset's values, decoded from the file's bytes. Why not `H5Dread`: libhdf5 1.10's
    /// contiguous read path crashed (a NULL memcpy) on a corrupt file found by fuzzing; here the data's
    /// place is checked against the file before any byte is read, and the element type is one of the
    /// standard ones (checked above), so decoding is a bounded loop.
    private func contiguousData(_ ds: hid_t, type: hid_t, count: Int, _ datasetPath: String) throws -> [Float] {
        guard let bytes else { throw fail("dataset '\(datasetPath)': file not opened from memory") }
        var offset: UInt64 = 0, stored: UInt64 = 0
        guard recur_h5_contiguous_storage(ds, &offset, &stored) == 0 else {
            throw fail("dataset '\(datasetPath)' declares \(count) values but stores none")
        }
        let size = Int(H5Tget_size(type))
        guard stored == UInt64(count * size), offset <= UInt64(bytes.count), stored <= UInt64(bytes.count) - offset else {
            throw fail("dataset '\(datasetPath)' has \(stored) bytes at offset \(offset); expected \(count * size) inside the file's \(bytes.count)")
        }
        let bigEndian = recur_h5_type_is_big_endian(type) != 0
        let isFloat = H5Tget_class(type) == H5T_FLOAT, isSigned = recur_h5_type_is_signed(type) != 0
        return bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + Int(offset)
            func word(_ i: Int) -> UInt64 {
                var w: UInt64 = 0
                for k in 0..<size { w |= UInt64(base.load(fromByteOffset: i * size + k, as: UInt8.self)) << (8 * UInt64(bigEndian ? size - 1 - k : k)) }
                return w
            }
            return (0..<count).map { i -> Float in
                let w = word(i)
                switch (isFloat, size) {
                case (true, 2): return Float(Float16(bitPattern: UInt16(w)))
                case (true, 4): return Float(bitPattern: UInt32(w))
                case (true, _): return Float(Double(bitPattern: w))
                case (false, _) where isSigned:
                    let shift = UInt64(64 - 8 * size)
                    return Float(Int64(bitPattern: w << shift) >> Int64(shift))
                default: return Float(w)
                }
            }
        }
    }

    /// Creates a group (its parent must exist).
    func createGroup(_ groupPath: String) throws {
        let g = H5Gcreate2(id, groupPath, recur_h5p_default(), recur_h5p_default(), recur_h5p_default())
        guard g >= 0 else { throw fail("cannot create group '\(groupPath)'") }
        H5Gclose(g)
    }

    /// Writes `t` as a little-endian float32 dataset (shape () for a scalar).
    func writeTensor(_ t: Tensor, at datasetPath: String) throws {
        let dims = t.shape.map { hsize_t($0) }
        let space = t.rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(t.rank), dims, nil)
        guard space >= 0 else { throw fail("cannot describe the shape of '\(datasetPath)'") }
        defer { H5Sclose(space) }
        let ds = H5Dcreate2(id, datasetPath, recur_h5t_ieee_f32le(), space, recur_h5p_default(), recur_h5p_default(), recur_h5p_default())
        guard ds >= 0 else { throw fail("cannot create dataset '\(datasetPath)'") }
        defer { H5Dclose(ds) }
        if t.count > 0 {
            let status = try t.to(.cpu).withUnsafeBufferPointer { buf in
                H5Dwrite(ds, recur_h5t_native_float(), recur_h5s_all(), recur_h5s_all(), recur_h5p_default(), buf.baseAddress)
            }
            guard status >= 0 else { throw fail("cannot write dataset '\(datasetPath)'") }
        }
    }

    /// Sets a variable-length UTF-8 string attribute on the object at `objectPath` (as h5py writes `str`).
    func setStringAttribute(_ name: String, _ value: String, on objectPath: String) throws {
        let obj = H5Oopen(id, objectPath.isEmpty ? "." : objectPath, recur_h5p_default())
        guard obj >= 0 else { throw fail("cannot open '\(objectPath)' to set attribute '\(name)'") }
        defer { H5Oclose(obj) }
        let type = H5Tcopy(recur_h5t_c_s1())
        defer { H5Tclose(type) }
        H5Tset_size(type, recur_h5t_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let attr = H5Acreate2(obj, name, type, space, recur_h5p_default(), recur_h5p_default())
        guard attr >= 0 else { throw fail("cannot create attribute '\(name)' on '\(objectPath)'") }
        defer { H5Aclose(attr) }
        let status: herr_t = value.withCString { cstr in
            var pointer: UnsafePointer<CChar>? = cstr
            return withUnsafePointer(to: &pointer) { H5Awrite(attr, type, UnsafeRawPointer($0)) }
        }
        guard status >= 0 else { throw fail("cannot write attribute '\(name)' on '\(objectPath)'") }
    }
}
