extension Layer {
    /// Saves `getWeights()` as an `.npz` archive with NumPy's positional names `arr_0`, `arr_1`, ...
    /// (in Python: `model.set_weights([d[f"arr_{i}"] for i in range(len(d.files))])`). Written atomically.
    public func saveWeights(to path: String) throws {
        guard path.hasSuffix(".npz") else {
            throw RecurError.unsupported(op: "\(name).saveWeights", message: "file type of \(path) (use .npz)")
        }
        try NumpyFile.saveNpz(getWeights().enumerated().map { ("arr_\($0.offset)", $0.element) }, path: path)
    }

    /// Loads weights written by `saveWeights(to:)` (or `np.savez(path, *model.get_weights())`).
    public func loadWeights(from path: String) throws {
        let arrays = try NumpyFile.loadNpz(path: path)
        let weights = try (0..<arrays.count).map { i -> Tensor in
            guard let t = arrays["arr_\(i)"] else {
                throw RecurError.io(path: path, message: "missing array arr_\(i) (expected arr_0 ... arr_\(arrays.count - 1))")
            }
            return t
        }
        try setWeights(weights)
    }
}
