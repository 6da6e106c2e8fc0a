import CHDF5
import Foundation

/// A small wrapper over HDF5's C API: exactly what Keras weight files need (groups, float datasets,
/// string attributes). The serial HDF5 library is not thread-safe, so every use goes through
/// `HDF5File.withLock`.
final class HDF5File {
    let path: String
    private var id: hid_t

    private static let lock = NSRecursiveLock()
    nonisolated(unsafe) private static var silenced = false

    /// Runs `body` holding the process-wide HDF5 lock.
    static func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        if !silenced {
            _ = recur_h5_silence_errors()
            silenced = true
        }
        return try body()
    }

    private init(path: String, id: hid_t) {
        self.path = path
        self.id = id
    }

    /// Opens an existing file read-only.
    static func open(readingAt path: String) throws -> HDF5File {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw RecurError.io(path: path, message: "file not found")
        }
        guard H5Fis_hdf5(path) > 0 else {
            throw RecurError.io(path: path, message: "not an HDF5 file (bad signature or truncated)")
        }
        let id = H5Fopen(path, recur_h5f_acc_rdonly(), recur_h5p_default())
        guard id >= 0 else { throw RecurError.io(path: path, message: "HDF5 cannot open the file (corrupt?)") }
        return HDF5File(path: path, id: id)
    }

    /// Creates (or truncates) a file.
    static func create(at path: String) throws -> HDF5File {
        let id = H5Fcreate(path, recur_h5f_acc_trunc(), recur_h5p_default(), recur_h5p_default())
        guard id >= 0 else { throw RecurError.io(path: path, message: "HDF5 cannot create the file") }
        return HDF5File(path: path, id: id)
    }

    deinit { if id >= 0 { H5Fclose(id) } }

    /// Closes the file (writing everything out); later calls do nothing.
    func close() throws {
        guard id >= 0 else { return }
        let status = H5Fclose(id)
        id = -1
        guard status >= 0 else { throw fail("cannot close the file (write failed?)") }
    }

    private func fail(_ message: String) -> RecurError { .io(path: path, message: message) }

    /// What is at `objectPath` ("a/b/c", relative to the root).
    enum Kind { case missing, group, dataset, other }

    func kind(of objectPath: String) -> Kind {
        if objectPath.isEmpty { return .group }
        // H5Oopen on a missing link fails; H5Lexists needs every parent to exist, so check each level.
        var prefix = ""
        for part in objectPath.split(separator: "/") {
            prefix += prefix.isEmpty ? String(part) : "/" + part
            guard H5Lexists(id, prefix, recur_h5p_default()) > 0 else { return .missing }
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
        let name = groupPath.isEmpty ? "." : groupPath
        var info = H5G_info_t()
        guard H5Gget_info_by_name(id, name, &info, recur_h5p_default()) >= 0 else {
            throw fail("cannot list group '\(groupPath)'")
        }
        var names: [String] = []
        for i in 0..<info.nlinks {
            let size = H5Lget_name_by_idx(id, name, H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, recur_h5p_default())
            guard size >= 0 else { throw fail("cannot read a link name in '\(groupPath)'") }
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            _ = H5Lget_name_by_idx(id, name, H5_INDEX_NAME, H5_ITER_INC, i, &buffer, Int(size) + 1, recur_h5p_default())
            names.append(String(cString: buffer))
        }
        return names
    }

    /// Every group path under `groupPath` (itself excluded), depth first.
    func allGroups(under groupPath: String = "") throws -> [String] {
        var out: [String] = []
        for member in try memberNames(groupPath) {
            let child = groupPath.isEmpty ? member : "\(groupPath)/\(member)"
            if kind(of: child) == .group {
                out.append(child)
                out += try allGroups(under: child)
            }
        }
        return out
    }

    /// Reads a numeric dataset as Float32 (HDF5 converts from its stored type).
    func readTensor(_ datasetPath: String) throws -> Tensor {
        let ds = H5Dopen2(id, datasetPath, recur_h5p_default())
        guard ds >= 0 else { throw fail("cannot open dataset '\(datasetPath)'") }
        defer { H5Dclose(ds) }
        let type = H5Dget_type(ds)
        defer { H5Tclose(type) }
        let typeClass = H5Tget_class(type)
        guard typeClass == H5T_FLOAT || typeClass == H5T_INTEGER else {
            throw fail("dataset '\(datasetPath)' is not numeric")
        }
        let space = H5Dget_space(ds)
        guard space >= 0 else { throw fail("cannot read the shape of '\(datasetPath)'") }
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else { throw fail("cannot read the shape of '\(datasetPath)'") }
        var dims = [hsize_t](repeating: 0, count: rank)
        if rank > 0 { H5Sget_simple_extent_dims(space, &dims, nil) }
        let shape = dims.map { Int($0) }
        let count = shape.reduce(1, *)
        var scalars = [Float](repeating: 0, count: count)
        if count > 0 {
            let status = scalars.withUnsafeMutableBytes { raw in
                H5Dread(ds, recur_h5t_native_float(), recur_h5s_all(), recur_h5s_all(), recur_h5p_default(), raw.baseAddress)
            }
            guard status >= 0 else { throw fail("cannot read dataset '\(datasetPath)' (corrupt or truncated file?)") }
        }
        return try Tensor(shape: shape, scalars: scalars)
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
            let status = t.withUnsafeBufferPointer { buf in
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
