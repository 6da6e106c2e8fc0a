import Foundation

/// NumPy `.npy` and `.npz` files.
///
/// `.npy` layout (numpy/lib/format.py):
///   - magic `\x93NUMPY`, then major and minor version bytes (1.0, 2.0 or 3.0);
///   - header length: UInt16 little-endian for 1.0, UInt32 little-endian for 2.0/3.0
///     (3.0 only allows a UTF-8 header; 1.0/2.0 are Latin-1/ASCII);
///   - the header, a Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`
///     padded with spaces and ended by `\n` so that the data starts at a multiple of 64 bytes;
///   - the raw array data in C (row-major) order, or in Fortran (column-major) order when the header's
///     `fortran_order` is `True`.
///
/// Reading accepts dtypes `f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1` in little-endian (`<`), big-endian
/// (`>`), native (`=`, little-endian on the platforms Recur runs on) or byte (`|`) order, in C or
/// Fortran order, and converts them to Float32 in C order (64-bit integers above 2^24 lose
/// precision). Object, string, structured and complex dtypes are refused. Writing always produces
/// version 1.0, `<f4`, C order.
///
/// `.npz` is a ZIP archive of `.npy` files, one per array, named `KEY.npy` (`np.savez` stores
/// them, `np.savez_compressed` deflates them; both are read). Writing stores them uncompressed.
public enum NumpyFile {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    // MARK: .npy

    /// Parses `.npy` bytes; `path` only names the source in errors.
    public static func readNpy(_ data: Data, path: String) throws -> Tensor {
        let b = BoundedBytes(data: data, path: path, what: "npy file")
        guard data.count >= 8, (0..<6).allSatisfy({ data[data.startIndex + $0] == magic[$0] }) else {
            throw b.fail("bad magic: not a NumPy .npy file (expected \\x93NUMPY)")
        }
        let major = try b.u8(6), minor = try b.u8(7)
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(try b.u16(8, "header length")); headerStart = 10
        case 2, 3: headerLength = Int(try b.u32(8, "header length")); headerStart = 12
        default: throw b.fail("unsupported format version \(major).\(minor) (1.0, 2.0 and 3.0 are supported)")
        }
        let headerBytes = try b.bytes(headerStart, headerLength, "header")
        let header = major == 3 ? String(decoding: headerBytes, as: UTF8.self)
                                : String(headerBytes.map { Character(Unicode.Scalar($0)) })
        let (dtype, shape, fortranOrder) = try parseHeader(header, bytes: b)

        guard shape.count <= UntrustedLimits.maxRank, let count = UntrustedLimits.elementCount(shape) else {
            throw b.fail("shape \(shape) is too large (at most rank \(UntrustedLimits.maxRank) and \(UntrustedLimits.maxElements) elements)")
        }
        let dataStart = headerStart + headerLength
        let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else { throw b.fail("shape \(shape) is too large") }
        guard data.count - dataStart >= needed else {
            throw b.fail("truncated data: shape \(shape) of '\(dtype.descr)' needs \(needed) bytes, "
                         + "file has \(data.count - dataStart) after the header")
        }
        let scalars = data.withUnsafeBytes { raw in
            dtype.decode(UnsafeRawBufferPointer(rebasing: raw[dataStart..<(dataStart + needed)]), count: count)
        }
        return try Tensor(shape: shape, scalars: fortranOrder ? rowMajor(columnMajor: scalars, shape: shape) : scalars)
    }

    /// The scalars of an array of `shape` stored in column-major (Fortran) order, in row-major order:
    /// element (i₀, …, iₙ₋₁) sits at Σ iₖ·(d₀·…·dₖ₋₁) in the file.
    static func rowMajor(columnMajor scalars: [Float], shape: [Int]) -> [Float] {
        guard shape.count > 1, !scalars.isEmpty else { return scalars }
        var strides = [Int](repeating: 1, count: shape.count)
        for k in 1..<shape.count { strides[k] = strides[k - 1] * shape[k - 1] }
        var index = [Int](repeating: 0, count: shape.count)
        var offset = 0
        return (0..<scalars.count).map { _ in
            let value = scalars[offset]
            // The next index in row-major order: the last axis moves fastest.
            for k in stride(from: shape.count - 1, through: 0, by: -1) {
                index[k] += 1
                offset += strides[k]
                if index[k] < shape[k] { break }
                offset -= strides[k] * shape[k]
                index[k] = 0
            }
            return value
        }
    }

    /// Reads the `.npy` file at `path`.
    public static func loadNpy(path: String) throws -> Tensor {
        try readNpy(RecurFileIO.read(path: path), path: path)
    }

    /// `.npy` version 1.0 bytes for `t` (dtype `<f4`, C order, data aligned to 64 bytes).
    public static func npyData(_ t: Tensor) throws -> Data {
        let shapeText: String
        switch t.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(t.shape[0]),)"
        default: shapeText = "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let prefix = magic.count + 2 + 2  // magic, version, UInt16 length
        let unpadded = prefix + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"

        var out = Data(magic)
        out.append(contentsOf: [1, 0])
        // A header too long for UInt16 needs version 2.0 (only for absurdly high-rank shapes).
        if header.utf8.count > 0xFFFF {
            out[6] = 2
            var padded = String(header.dropLast())
            padded += String(repeating: " ", count: (64 - (prefix + 2 + padded.utf8.count + 1) % 64) % 64) + "\n"
            out.appendLE(UInt32(padded.utf8.count))
            out.append(contentsOf: padded.utf8)
        } else {
            out.appendLE(UInt16(header.utf8.count))
            out.append(contentsOf: header.utf8)
        }
        try t.to(.cpu).withUnsafeBufferPointer { buf in
            #if _endian(little)
            out.append(contentsOf: UnsafeRawBufferPointer(buf))
            #else
            for x in buf { out.appendLE(x.bitPattern) }
            #endif
        }
        return out
    }

    /// Writes `t` to `path` as `.npy`, atomically.
    public static func saveNpy(_ t: Tensor, path: String) throws {
        try RecurFileIO.writeAtomically(npyData(t), path: path)
    }

    // MARK: .npz

    /// Reads every `KEY.npy` entry of the `.npz` archive at `path`, keyed by `KEY`.
    public static func loadNpz(path: String) throws -> [String: Tensor] {
        try readNpz(RecurFileIO.read(path: path), path: path)
    }

    /// Parses `.npz` bytes; `path` only names the source in errors.
    public static func readNpz(_ data: Data, path: String) throws -> [String: Tensor] {
        let archive = try ZipArchive(data: data, path: path)
        var result: [String: Tensor] = [:]
        for entry in archive.entries where entry.name.hasSuffix(".npy") {
            let key = String(entry.name.dropLast(4))
            result[key] = try readNpy(archive.contents(of: entry), path: "\(path)[\(entry.name)]")
        }
        return result
    }

    /// Writes `arrays` to `path` as an uncompressed `.npz` (like `np.savez`), atomically.
    public static func saveNpz(_ arrays: [(String, Tensor)], path: String) throws {
        var writer = ZipWriter(path: path)
        for (key, tensor) in arrays {
            try writer.add(name: key + ".npy", data: npyData(tensor))
        }
        try RecurFileIO.writeAtomically(writer.finish(), path: path)
    }

    // MARK: Header

    /// An element type read from a `descr` string.
    struct DType {
        enum Kind { case float, signed, unsigned, bool }
        let descr: String
        let kind: Kind
        let size: Int
        let bigEndian: Bool

        init(_ descr: String, bytes b: BoundedBytes) throws {
            self.descr = descr
            guard let order = descr.first, "<>|=".contains(order), descr.count >= 3,
                  let size = Int(descr.dropFirst(2)) else {
                if descr.contains("O") { throw b.fail("object arrays (dtype '\(descr)') cannot be read; save numeric arrays") }
                throw b.fail("unsupported dtype '\(descr)'")
            }
            let code = descr[descr.index(after: descr.startIndex)]
            switch (code, size) {
            case ("f", 2), ("f", 4), ("f", 8): kind = .float
            case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
            case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
            case ("b", 1): kind = .bool
            case ("O", _): throw b.fail("object arrays (dtype '\(descr)') cannot be read; save numeric arrays")
            default: throw b.fail("unsupported dtype '\(descr)' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)")
            }
            self.size = size
            bigEndian = order == ">"
        }

        /// Converts `count` elements, each `size` bytes in the file's byte order, to Float32.
        func decode(_ raw: UnsafeRawBufferPointer, count: Int) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { out, initialized in
                switch (kind, size) {
                case (.float, 2):
                    for i in 0..<count { out[i] = Float(Float16(bitPattern: load(raw, i, as: UInt16.self))) }
                case (.float, 4):
                    for i in 0..<count { out[i] = Float(bitPattern: load(raw, i, as: UInt32.self)) }
                case (.float, _):
                    for i in 0..<count { out[i] = Float(Double(bitPattern: load(raw, i, as: UInt64.self))) }
                case (.signed, 1):
                    for i in 0..<count { out[i] = Float(Int8(bitPattern: raw[i])) }
                case (.signed, 2):
                    for i in 0..<count { out[i] = Float(Int16(bitPattern: load(raw, i, as: UInt16.self))) }
                case (.signed, 4):
                    for i in 0..<count { out[i] = Float(Int32(bitPattern: load(raw, i, as: UInt32.self))) }
                case (.signed, _):
                    for i in 0..<count { out[i] = Float(Int64(bitPattern: load(raw, i, as: UInt64.self))) }
                case (.unsigned, 1):
                    for i in 0..<count { out[i] = Float(raw[i]) }
                case (.bool, _):
                    for i in 0..<count { out[i] = raw[i] == 0 ? 0 : 1 }
                case (.unsigned, 2):
                    for i in 0..<count { out[i] = Float(load(raw, i, as: UInt16.self)) }
                case (.unsigned, 4):
                    for i in 0..<count { out[i] = Float(load(raw, i, as: UInt32.self)) }
                case (.unsigned, _):
                    for i in 0..<count { out[i] = Float(load(raw, i, as: UInt64.self)) }
                }
                initialized = count
            }
        }

        /// Element `i`'s bits, read in the file's byte order.
        @inline(__always)
        private func load<Bits: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, _ i: Int, as _: Bits.Type) -> Bits {
            let stored = raw.loadUnaligned(fromByteOffset: MemoryLayout<Bits>.size * i, as: Bits.self)
            return bigEndian ? Bits(bigEndian: stored) : Bits(littleEndian: stored)
        }
    }

    /// Extracts dtype, shape and whether the data is in Fortran order from the header dict.
    static func parseHeader(_ header: String, bytes b: BoundedBytes) throws -> (DType, [Int], fortranOrder: Bool) {
        var parser = PyLiteralParser(text: Array(header.unicodeScalars))
        guard case let .dict(dict)? = try? parser.parseValue() else {
            throw b.fail("malformed header (expected a Python dict literal): \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard case let .string(descr)? = dict["descr"] else {
            if case .list? = dict["descr"] { throw b.fail("structured dtypes are not supported") }
            throw b.fail("malformed header: missing or non-string 'descr'")
        }
        guard case let .bool(fortran)? = dict["fortran_order"] else {
            throw b.fail("malformed header: missing 'fortran_order'")
        }
        guard case let .tuple(dims)? = dict["shape"] else { throw b.fail("malformed header: missing 'shape' tuple") }
        var shape: [Int] = []
        for d in dims {
            guard case let .int(n) = d, n >= 0 else {
                let text = dims.map { if case let .int(n) = $0 { return String(n) } else { return "?" } }.joined(separator: ", ")
                throw b.fail("malformed header: shape (\(text)) must hold whole numbers ≥ 0")
            }
            shape.append(n)
        }
        return (try DType(descr, bytes: b), shape, fortran)
    }
}

/// The subset of Python literals that `.npy` headers use: dicts, tuples/lists, strings, integers,
/// `True`/`False`/`None`.
struct PyLiteralParser {
    enum Value: Equatable {
        case dict([String: Value]), tuple([Value]), list([Value]), string(String), int(Int), bool(Bool), none
    }
    struct Malformed: Error {}

    let text: [Unicode.Scalar]
    var i = 0
    /// How many dicts, tuples and lists enclose the value being parsed; deeper than
    /// `UntrustedLimits.maxNestingDepth` is malformed (real headers nest two deep).
    var depth = 0

    init(text: [Unicode.Scalar]) { self.text = text }

    mutating func skipSpace() {
        while i < text.count, text[i].properties.isWhitespace { i += 1 }
    }

    mutating func expect(_ c: Unicode.Scalar) throws {
        skipSpace()
        guard i < text.count, text[i] == c else { throw Malformed() }
        i += 1
    }

    /// True (and consumes it) when the next non-space character is `c`.
    mutating func take(_ c: Unicode.Scalar) -> Bool {
        skipSpace()
        if i < text.count, text[i] == c { i += 1; return true }
        return false
    }

    mutating func parseValue() throws -> Value {
        skipSpace()
        guard i < text.count else { throw Malformed() }
        let opensContainer = "{([".unicodeScalars.contains(text[i])
        if opensContainer {
            depth += 1
            guard depth <= UntrustedLimits.maxNestingDepth else { throw Malformed() }
        }
        defer { if opensContainer { depth -= 1 } }
        switch text[i] {
        case "{":
            i += 1
            var dict: [String: Value] = [:]
            while !take("}") {
                guard case let .string(key) = try parseValue() else { throw Malformed() }
                try expect(":")
                dict[key] = try parseValue()
                if !take(",") { try expect("}"); break }
            }
            return .dict(dict)
        case "(", "[":
            let close: Unicode.Scalar = text[i] == "(" ? ")" : "]"
            let isTuple = text[i] == "("
            i += 1
            var items: [Value] = []
            while !take(close) {
                items.append(try parseValue())
                if !take(",") { try expect(close); break }
            }
            return isTuple ? .tuple(items) : .list(items)
        case "'", "\"":
            let quote = text[i]
            i += 1
            var s = String.UnicodeScalarView()
            while i < text.count, text[i] != quote {
                if text[i] == "\\" { i += 1; guard i < text.count else { throw Malformed() } }
                s.append(text[i])
                i += 1
            }
            guard i < text.count else { throw Malformed() }
            i += 1
            return .string(String(s))
        default:
            var word = ""
            while i < text.count, text[i].properties.isAlphabetic || ("0"..."9").contains(text[i]) || text[i] == "-" || text[i] == "_" {
                word.unicodeScalars.append(text[i])
                i += 1
            }
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                // Python 2 headers may write long integers as `3L`.
                let digits = word.hasSuffix("L") ? String(word.dropLast()) : word
                guard let n = Int(digits) else { throw Malformed() }
                return .int(n)
            }
        }
    }
}
