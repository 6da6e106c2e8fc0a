import Foundation
import SwiftProtobuf

/// A histogram of values as TensorBoard stores it: `bucketCounts[i]` values lie in
/// `(bucketLimits[i-1], bucketLimits[i]]`, the first bucket starting at `minimum`.
public struct TensorBoardHistogram: Sendable, Equatable {
    public var minimum: Double
    public var maximum: Double
    public var count: Double
    public var sum: Double
    public var sumOfSquares: Double
    public var bucketLimits: [Double]
    public var bucketCounts: [Double]

    /// `values` in `bucketCount` equal-width buckets between their minimum and maximum (one bucket when
    /// all values are equal). Non-finite values are left out of the buckets and counted nowhere.
    public init(values: [Float], bucketCount: Int = 30) {
        let finite = values.lazy.filter(\.isFinite).map(Double.init)
        let low = finite.min() ?? 0, high = finite.max() ?? 0
        minimum = low
        maximum = high
        count = Double(finite.count)
        sum = finite.reduce(0, +)
        sumOfSquares = finite.reduce(0) { $0 + $1 * $1 }
        let buckets = high > low ? max(bucketCount, 1) : 1
        let width = (high - low) / Double(buckets)
        bucketLimits = (1...buckets).map { $0 == buckets ? high : low + width * Double($0) }
        bucketCounts = Array(repeating: 0, count: buckets)
        for value in finite {
            let index = width > 0 ? min(Int(((value - low) / width).rounded(.up)) - 1, buckets - 1) : 0
            bucketCounts[max(index, 0)] += 1
        }
    }

    init(_ proto: TBHistogramProto) {
        minimum = proto.min; maximum = proto.max; count = proto.num; sum = proto.sum; sumOfSquares = proto.sumSquares
        bucketLimits = proto.bucketLimit; bucketCounts = proto.bucket
    }

    var proto: TBHistogramProto {
        var proto = TBHistogramProto()
        proto.min = minimum; proto.max = maximum; proto.num = count; proto.sum = sum; proto.sumSquares = sumOfSquares
        proto.bucketLimit = bucketLimits; proto.bucket = bucketCounts
        return proto
    }
}

/// One event of a TensorBoard event file: the scalars and histograms logged at a step.
public struct TensorBoardEvent: Sendable, Equatable {
    /// Seconds since the Unix epoch.
    public var wallTime: Double
    public var step: Int
    public var scalars: [String: Float]
    public var histograms: [String: TensorBoardHistogram]
}

/// A TensorBoard event file (`events.out.tfevents.…`): TFRecord-framed `Event` protocol buffers,
/// the first one naming the file version. The writer appends complete records only; the reader checks
/// every record's checksums.
public final class TensorBoardEventFile {
    /// The file's path.
    public let path: String
    private let handle: FileHandle

    /// Creates a new event file in `directory` (created if missing), named as TensorFlow names them:
    /// `events.out.tfevents.<seconds>.<host>.<pid>.<counter>.v2`.
    public init(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RecurError.io(path: directory, message: "cannot create the TensorBoard log directory: \(error.localizedDescription)")
        }
        let counter = Self.counter.next()
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_")
        let name = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(getpid()).\(counter).v2"
        path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw RecurError.io(path: path, message: "cannot create the TensorBoard event file")
        }
        self.handle = handle
        var first = TBEvent()
        first.wallTime = Date().timeIntervalSince1970
        first.fileVersion = "brain.Event:2"
        try append(first)
    }

    deinit { try? handle.close() }

    /// Appends one event holding `scalars` (tag → value) and `histograms` at `step`.
    public func write(step: Int, scalars: [(tag: String, value: Float)] = [], histograms: [(tag: String, histogram: TensorBoardHistogram)] = []) throws {
        var event = TBEvent()
        event.wallTime = Date().timeIntervalSince1970
        event.step = Int64(step)
        var summary = TBSummary()
        summary.value = scalars.map { tag, value in
            var entry = TBSummary.Value(); entry.tag = tag; entry.simpleValue = value; return entry
        } + histograms.map { tag, histogram in
            var entry = TBSummary.Value(); entry.tag = tag; entry.histo = histogram.proto; return entry
        }
        event.summary = summary
        try append(event)
    }

    private func append(_ event: TBEvent) throws {
        do {
            let record = TFRecord.frame(try event.serializedBytes())
            try handle.seekToEnd()
            try handle.write(contentsOf: record)
        } catch {
            throw RecurError.io(path: path, message: "cannot write a TensorBoard event: \(error.localizedDescription)")
        }
    }

    /// The summary events in the event file at `path`, in file order (the file-version event is left
    /// out). Throws, naming the file, on a checksum mismatch or a record that is not an `Event`.
    public static func events(at path: String) throws -> [TensorBoardEvent] {
        try events(in: try RecurFileIO.read(path: path), path: path)
    }

    /// The summary events in the bytes of an event file; `path` names it in errors.
    public static func events(in data: Data, path: String) throws -> [TensorBoardEvent] {
        let records = try TFRecord.records(in: data, path: path)
        return try records.enumerated().compactMap { index, record in
            let event: TBEvent
            do { event = try TBEvent(serializedBytes: record) } catch {
                throw RecurError.io(path: path, message: "record \(index) is not a TensorBoard Event: \(error)")
            }
            guard case .summary(let summary)? = event.what else { return nil }
            var scalars: [String: Float] = [:], histograms: [String: TensorBoardHistogram] = [:]
            for value in summary.value {
                switch value.value {
                case .simpleValue(let scalar)?: scalars[value.tag] = scalar
                case .histo(let histogram)?: histograms[value.tag] = TensorBoardHistogram(histogram)
                case nil: continue
                }
            }
            return TensorBoardEvent(wallTime: event.wallTime, step: Int(event.step), scalars: scalars, histograms: histograms)
        }
    }

    /// The paths of the event files directly in `directory`, sorted by name.
    public static func files(in directory: String) throws -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw RecurError.io(path: directory, message: "cannot list the TensorBoard log directory: \(error.localizedDescription)")
        }
        return names.filter { $0.contains("tfevents") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Makes file names unique within a process when two files are created in the same second.
    private static let counter = Counter()

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }
}
