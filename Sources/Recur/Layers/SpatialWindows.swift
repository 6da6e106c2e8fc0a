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
    /// Throws, naming `layer`, when the taps would hold more than `UntrustedLimits.maxElements` values.
    func gather(_ x: Tensor, layer: Layer) throws -> (taps: Tensor, valid: Tensor?) {
        let batch = x.shape[0], channels = x.shape[x.rank - 1]
        let positions = counts.reduce(1, *), taps = axes.reduce(1) { $0 * $1.size }
        guard UntrustedLimits.elementCount([Swift.max(batch, 1), positions, taps, Swift.max(channels, 1)]) != nil else {
            throw RecurError.invalidArgument(layer.errorSubject, "its windows (\(batch), \(positions), \(taps), \(channels)) would hold more than "
                                             + "\(UntrustedLimits.maxElements) values")
        }
        // Row-major strides of the input's spatial axes, to name a position by one index.
        let sizes = axes.map(\.time)
        let spatialStrides = (0..<sizes.count).map { a in sizes[(a + 1)...].reduce(1, *) }
        var steps = [Float](), valid = [Float]()
        steps.reserveCapacity(positions * taps)
        valid.reserveCapacity(positions * taps)
        for position in multiIndices(counts) {
            for tap in multiIndices(axes.map(\.size)) {
                var index = 0, real = true
                for (a, windows) in axes.enumerated() {
                    index += windows.clampedStep(window: position[a], tap: tap[a]) * spatialStrides[a]
                    real = real && windows.isValid(window: position[a], tap: tap[a])
                }
                steps.append(Float(index))
                valid.append(real ? 1 : 0)
            }
        }
        let flat = try x.reshaped(to: [batch, sizes.reduce(1, *), channels])
        let gathered = try gatherTimeSteps(flat, try Tensor(shape: [positions, taps], scalars: steps))
        return (gathered, valid.contains(0) ? try Tensor(shape: [1, positions, taps, 1], scalars: valid) : nil)
    }
}

/// Every index of a grid of `sizes`, in row-major order.
private func multiIndices(_ sizes: [Int]) -> [[Int]] {
    sizes.reduce([[]]) { prefixes, size in prefixes.flatMap { prefix in (0..<size).map { prefix + [$0] } } }
}
