/// The windows of a convolution over several spatial axes: one `TimeWindows` per axis, windows and
/// taps taken in row-major order over the axes (the order of Keras's kernel (k₁, …, k_r, channels,
/// filters)). Output position (o₁, …, o_r), tap (t₁, …, t_r) reads input position (s₁, …, s_r) with
/// sₐ the step tap tₐ of window oₐ reads on axis a; a tap is real when it is real on every axis.
struct SpatialWindows {
    let axes: [TimeWindows]
    /// Over several axes, computed once: each (output position, tap)'s flat input position as a
    /// Float32 index, (positions, taps); and, where any tap is padding, 1 for a real tap and 0 for
    /// padding, (1, positions, taps, 1). nil over one axis, which `TimeWindows` gathers itself.
    private let indices: (steps: Tensor, valid: Tensor?)?

    /// Throws, naming `layer`, when the (position, tap) pairs would number more than
    /// `UntrustedLimits.maxElements` or the input hold more than 2²⁴ positions (the gather's indices
    /// are Float32, exact that far).
    init(axes: [TimeWindows], layer: Layer) throws {
        self.axes = axes
        guard axes.count > 1 else {
            indices = nil
            return
        }
        let sizes = axes.map(\.time), counts = axes.map(\.count), tapSizes = axes.map(\.size)
        guard let pairs = UntrustedLimits.elementCount(counts + tapSizes) else {
            throw RecurError.invalidArgument(layer.errorSubject, "its windows (\(counts.reduce(1, *)) positions of \(tapSizes.reduce(1, *)) taps) "
                                             + "would hold more than \(UntrustedLimits.maxElements) values")
        }
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
        let (positions, taps) = (counts.reduce(1, *), tapSizes.reduce(1, *))
        var steps = [Float](repeating: 0, count: pairs), valid = [Float](repeating: 1, count: pairs)
        for position in 0..<positions {
            for tap in 0..<taps {
                var (index, real, p, t) = (0, true, position, tap)
                for a in axes.indices.reversed() {
                    let (offset, isReal) = tables[a][p % counts[a]][t % tapSizes[a]]
                    index += offset
                    real = real && isReal
                    p /= counts[a]
                    t /= tapSizes[a]
                }
                steps[position * taps + tap] = Float(index)
                if !real { valid[position * taps + tap] = 0 }
            }
        }
        indices = (try Tensor(shape: [positions, taps], scalars: steps),
                   valid.contains(0) ? try Tensor(shape: [1, positions, taps, 1], scalars: valid) : nil)
    }

    /// Output positions along each axis.
    var counts: [Int] { axes.map(\.count) }

    /// The convolution of x (batch, s₁, …, s_r, channels) with kernel (k₁, …, k_r, channels / groups,
    /// filters), padding taps reading 0: (batch, o₁, …, o_r, filters). With `groups` > 1, group g's
    /// filters see only group g's channels.
    func convolve(_ x: Tensor, kernel: Tensor, groups: Int = 1, layer: Layer) throws -> Tensor {
        guard groups == 1 else {
            let (channelAxis, filterAxis) = (x.rank - 1, kernel.rank - 1)
            let (perGroup, filtersPerGroup) = (kernel.shape[filterAxis - 1], kernel.shape[filterAxis] / groups)
            let outputs = try (0..<groups).map { g in
                try convolve(x.slice(alongAxis: channelAxis, g * perGroup..<(g + 1) * perGroup),
                             kernel: kernel.slice(alongAxis: filterAxis, g * filtersPerGroup..<(g + 1) * filtersPerGroup), layer: layer)
            }
            return try Tensor.concatenate(outputs, alongAxis: channelAxis)
        }
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
        guard let (steps, valid) = indices else {
            let windows = axes[0]
            return (try windows.gather(x, layer: layer), windows.hasPadding ? windows.validTaps : nil)
        }
        let (batch, channels) = (x.shape[0], x.shape[x.rank - 1])
        guard UntrustedLimits.elementCount([Swift.max(batch, 1)] + steps.shape + [Swift.max(channels, 1)]) != nil else {
            throw RecurError.invalidArgument(layer.errorSubject, "its windows (\(batch), \(steps.shape[0]), \(steps.shape[1]), \(channels)) "
                                             + "would hold more than \(UntrustedLimits.maxElements) values")
        }
        let flat = try x.reshaped(to: [batch, axes.reduce(1) { $0 * $1.time }, channels])
        return (try gatherTimeSteps(flat, steps), valid)
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
