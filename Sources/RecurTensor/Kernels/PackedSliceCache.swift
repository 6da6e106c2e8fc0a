import Foundation

/// The threads' packed weight slices of a split by units (`UnitSlice`), kept from one inference pass to
/// the next: a model predicting one sample at a time packs W, b and U once instead of at every call
/// (for the guide's LSTM about a tenth of a call).
///
/// An entry holds the tensors its slices were packed from, so their storage cannot be freed and
/// reused, and a change to them — an optimizer's update, `setWeights` — copies the storage first
/// (copy-on-write) instead of writing into it: an entry matches only while every source tensor still
/// shares its storage with the one the slices were packed from. A pass takes its entry out while it
/// runs, so two passes never share a slice's buffers.
final class PackedSliceCache: @unchecked Sendable {
    static let shared = PackedSliceCache()

    /// The most entries kept (the least recently used goes first), and the most scalars one may hold
    /// (its slices and the sources it keeps alive together): larger layers pack at every call.
    static let capacity = 4
    static let mostScalars = 2 << 20

    /// What a pass's slices depend on besides the sources' values.
    struct Layout: Equatable {
        let stepper: ObjectIdentifier
        let slices: [Range<Int>]
        let rows: Int
        let projectedSteps: Int
    }

    private struct Entry {
        let sources: [Tensor]
        let layout: Layout
        let slices: [UnitSlice]
    }

    private let lock = NSLock()
    private var entries: [Entry] = []

    /// The slices packed from `sources` for `layout`, taken out of the cache; nil when there are none.
    func take(sources: [Tensor], layout: Layout) -> [UnitSlice]? {
        lock.lock()
        defer { lock.unlock() }
        guard let index = entries.lastIndex(where: { entry in
            entry.layout == layout && entry.sources.count == sources.count
                && zip(entry.sources, sources).allSatisfy { $0.shape == $1.shape && $0.sharesStorage(with: $1) }
        }) else { return nil }
        return entries.remove(at: index).slices
    }

    /// Keeps `slices`, packed from `sources` for `layout`, for a later pass, unless they are too large.
    func keep(_ slices: [UnitSlice], sources: [Tensor], layout: Layout) {
        let scalars = sources.reduce(0) { $0 + $1.count } + slices.reduce(0) { $0 + $1.scalarCount }
        guard scalars <= Self.mostScalars else { return }
        lock.lock()
        defer { lock.unlock() }
        entries.append(Entry(sources: sources, layout: layout, slices: slices))
        if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
    }
}
