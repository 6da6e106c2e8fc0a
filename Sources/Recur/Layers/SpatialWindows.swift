/// The windows of a convolution over several spatial axes: one `TimeWindows` per axis, windows and
/// taps taken in row-major order over the axes (the order of Keras's kernel (k₁, …, k_r, channels,
/// filters)). Output position (o₁, …, o_r), tap (t₁, …, t_r) reads input position (s₁, …, s_r) with
/// sₐ the step tap tₐ of window oₐ reads on axis a; a tap is real when it is real on every axis.
struct SpatialWindows {
    let axes: [TimeWindows]

    /// Output positions along each axis.
    var counts: [Int] { axes.map(\.count) }

    /// The convolution of x (batch, s₁, …, s_r, channels) with kernel (k₁, …, k_r, channels, filters),
    /// padding taps reading 0: (batch, o₁, …, o_r, filters).
    func convolve(_ x: Tensor, kernel: Tensor, layer: Layer) throws -> Tensor {
        if axes.count == 1 { return try axes[0].convolve(x, kernel: kernel, layer: layer) }
        var (taps, valid) = try gather(x, layer: layer)
        if let valid { taps = try taps * valid }
        let (batch, channels, filters) = (x.shape[0], x.shape[x.rank - 1], kernel.shape[kernel.rank - 1])
        let y = try taps.reshaped(to: [batch, taps.shape[1], taps.shape[2] * channels]).matmul(kernel.reshaped(to: [taps.shape[2] * channels, filters]))
        return try y.reshaped(to: [batch] + counts + [filters])
    }

    /// x (batch, s₁, …, s_r, channels) → its windows' taps (batch, positions, taps, channels), output
    /// positions and taps in row-major order, a padding tap reading the nearest real position; and,
    /// where any tap is padding, 1 for a real tap and 0 for padding, shaped (1, positions, taps, 1).
    /// Throws, naming `layer`, when the taps would hold more than `UntrustedLimits.maxElements` values or
    /// the input more than 2²⁴ positions (the gather's indices are Float32).
    func gather(_ x: Tensor, layer: Layer) throws -> (taps: Tensor, valid: Tensor?) {
        let batch = x.shape[0], channels = x.shape[x.rank - 1]
        let positions = counts.reduce(1, *), taps = axes.reduce(1) { $0 * $1.size }
        guard UntrustedLimits.elementCount([Swift.max(batch, 1), positions, taps, Swift.max(channels, 1)]) != nil else {
            throw RecurError.invalidArgument(layer.errorSubject, "its windows (\(batch), \(positions), \(taps), \(channels)) would hold more than "
                                             + "\(UntrustedLimits.maxElements) values")
        }
        // The gather takes its indices as Float32, exact up to 2²⁴.
        let sizes = axes.map(\.time)
        guard sizes.reduce(1, *) <= 1 << 24 else {
            throw RecurError.unsupported(layer.errorSubject, "inputs of \(sizes.map(String.init).joined(separator: " × ")) positions (at most 2^24)")
        }
        // Per axis, the flat-index offset and realness of tap k of window w; a position's and a tap's
        // axis indices come from their row-major numbers.
        let tables = axes.indices.map { a in
            let stride = sizes[(a + 1)...].reduce(1, *), windows = axes[a]
            return (0..<windows.count).map { w in (0..<windows.size).map { k in (windows.clampedStep(window: w, tap: k) * stride,
                                                                                 windows.isValid(window: w, tap: k)) } }
        }
        var steps = [Float](repeating: 0, count: positions * taps), valid = [Float](repeating: 1, count: positions * taps)
        for position in 0..<positions {
            for tap in 0..<taps {
                var (index, real, p, t) = (0, true, position, tap)
                for a in axes.indices.reversed() {
                    let (offset, isReal) = tables[a][p % axes[a].count][t % axes[a].size]
                    index += offset
                    real = real && isReal
                    p /= axes[a].count
                    t /= axes[a].size
                }
                steps[position * taps + tap] = Float(index)
                if !real { valid[position * taps + tap] = 0 }
            }
        }
        let flat = try x.reshaped(to: [batch, sizes.reduce(1, *), channels])
        let gathered = try gatherTimeSteps(flat, try Tensor(shape: [positions, taps], scalars: steps))
        return (gathered, valid.contains(0) ? try Tensor(shape: [1, positions, taps, 1], scalars: valid) : nil)
    }
}

extension Layer {
    /// Throws, naming this layer, unless `shape` is (batch, `rank` spatial axes, channels), with a time
    /// axis after the batch where `time` (`requireSpatialClass` first).
    func requireSpatialInput(_ shape: [Int?], rank: Int, time: Bool = false) throws {
        try requireSpatialClass(rank: rank)
        let axes = time ? "batch, time" : "batch"
        try requireRank(shape, rank + (time ? 3 : 2), of: self, what: "input (\(axes), \(rank) spatial axes, channels)")
    }

    /// The layers over spatial axes (`Convolution`, `Pooling`, `GlobalPooling`, `ConvLSTM` and their
    /// subclasses) take their rank from their class; their shared bases have rank 0 and are refused
    /// here, naming this layer.
    func requireSpatialClass(rank: Int) throws {
        guard rank > 0 else {
            throw RecurError.unsupported(errorSubject, "\(className) is the shared base of its 1-, 2- and 3-D layer classes; use one of those")
        }
    }
}
