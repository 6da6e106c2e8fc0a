extension Layer {
    /// Saves `getWeights()` as an `.npz` archive with NumPy's positional names `arr_0`, `arr_1`, ...
    /// (in Python: `model.set_weights([d[f"arr_{i}"] for i in range(len(d.files))])`), or, for a path
    /// ending in `.weights.h5`, as a Keras 3 weights file (`model.load_weights`). Written atomically.
    public func saveWeights(to path: String) throws {
        if path.hasSuffix(".weights.h5") {
            try RecurFileIO.writeAtomically(KerasWeightsFile.image(of: self, label: path), path: path)
            return
        }
        guard path.hasSuffix(".npz") else {
            throw RecurError.unsupported(errorSubject, "saveWeights: file type of \(path) (use .npz or .weights.h5)")
        }
        try NumpyFile.saveNpz(getWeights().enumerated().map { ("arr_\($0.offset)", $0.element) }, path: path)
    }

    /// Loads weights written by `saveWeights(to:)` (or `np.savez(path, *model.get_weights())`), or a
    /// Keras 3 `.weights.h5` file (`model.save_weights`) when the path ends in `.weights.h5`.
    public func loadWeights(from path: String) throws {
        if path.hasSuffix(".weights.h5") {
            try KerasWeightsFile.load(into: self, path: path)
            return
        }
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
