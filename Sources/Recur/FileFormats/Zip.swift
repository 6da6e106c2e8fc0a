import Foundation

// A minimal ZIP reader and writer (PKWARE APPNOTE 6.3), enough for `.npz` files and other
// archives written by Python's `zipfile`.
//
// Layout, all integers little-endian:
//   [local file header 0x04034b50 (30 bytes) + name + extra][file data] ... repeated
//   [central directory header 0x02014b50 (46 bytes) + name + extra + comment] ... one per entry
//   [end of central directory record 0x06054b50 (22 bytes) + comment (≤ 65535 bytes)]
//
// Reading goes through the central directory (it holds the authoritative sizes even when bit 3,
// "data descriptor", is set); each entry's data starts after its *local* header, whose name and
// extra lengths may differ from the central ones. Methods 0 (stored) and 8 (raw deflate) are
// supported and every entry's CRC-32 is checked. ZIP64, encryption and multi-disk archives are
// refused with a clear `RecurError.io`. The writer produces stored entries only.
//
// Why not ZIPFoundation 0.9.20 (the design's choice): measured 2026-11-29, it opens all 23 crafted
// archives of Tests/RecurTests/Fixtures/crafted from memory without a crash, but two of the checks
// those files need are out of its public API's reach: the local file header (whose name must equal
// the central directory's, or Python's zipfile and Recur read different bytes: crafted/attack/
// local_name_mismatch.keras) is internal to its `Entry`, and duplicate names are returned as two
// entries. Using it would mean parsing local headers by hand beside it, so the reader stays one
// bounds-checked parser of ~250 lines, fuzzed with the others (Fuzz/, FuzzZip).

/// A ZIP archive held in memory, read through its central directory.
public struct ZipArchive: Sendable {
    /// One file in the archive, as described by its central directory header.
    public struct Entry: Sendable {
        public let name: String
        /// 0 stored, 8 deflated.
        public let method: UInt16
        public let crc32: UInt32
        public let compressedSize: Int
        public let uncompressedSize: Int
        let flags: UInt16
        let localHeaderOffset: Int
        /// The name's bytes as stored (the local header must repeat them).
        let rawName: Data
    }

    /// The file the archive came from (for error messages).
    public let path: String
    /// Entries in central directory order.
    public let entries: [Entry]
    let bytes: BoundedBytes

    /// Reads the archive at `path`.
    public init(path: String) throws {
        try self.init(data: RecurFileIO.read(path: path), path: path)
    }

    /// Parses an archive already in memory; `path` only names it in errors.
    public init(data: Data, path: String) throws {
        let b = BoundedBytes(data: data, path: path, what: "ZIP archive")
        self.path = path
        self.bytes = b

        // The end record is the last 22 bytes unless a comment follows it.
        guard data.count >= 22 else { throw b.fail("too short to be a ZIP file (\(data.count) bytes); truncated?") }
        var eocd = -1
        var at = data.count - 22
        let lowest = max(0, data.count - 22 - 0xFFFF)
        while at >= lowest {
            let sig = try b.u32(at), commentLength = Int(try b.u16(at + 20))
            if sig == 0x0605_4b50, commentLength == data.count - at - 22 {
                eocd = at
                break
            }
            at -= 1
        }
        guard eocd >= 0 else { throw b.fail("no end-of-central-directory record (not a ZIP file, or truncated)") }

        let disk = try b.u16(eocd + 4), cdDisk = try b.u16(eocd + 6)
        let entriesHere = try b.u16(eocd + 8), total = try b.u16(eocd + 10)
        let cdSize = try b.u32(eocd + 12), cdOffset = try b.u32(eocd + 16)
        let zip64Locator = eocd >= 20 ? try b.u32(eocd - 20) == 0x0706_4b50 : false
        if total == 0xFFFF || entriesHere == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF || zip64Locator {
            throw b.fail("ZIP64 archives are not supported")
        }
        guard disk == 0, cdDisk == 0, entriesHere == total else {
            throw b.fail("multi-disk (spanned) archives are not supported")
        }
        try b.check(Int(cdOffset), Int(cdSize), "central directory")
        guard Int(cdOffset) + Int(cdSize) <= eocd else { throw b.fail("central directory overlaps the end record (corrupt)") }

        var list: [Entry] = []
        var seen = Set<String>()
        var p = Int(cdOffset)
        for i in 0..<Int(total) {
            guard try b.u32(p, "central directory header \(i)") == 0x0201_4b50 else {
                throw b.fail("bad signature for central directory header \(i) at offset \(p) (corrupt)")
            }
            let flags = try b.u16(p + 8), method = try b.u16(p + 10)
            let crc = try b.u32(p + 16)
            let csize = try b.u32(p + 20), usize = try b.u32(p + 24)
            let nameLen = Int(try b.u16(p + 28)), extraLen = Int(try b.u16(p + 30)), commentLen = Int(try b.u16(p + 32))
            let local = try b.u32(p + 42)
            let nameBytes = try b.bytes(p + 46, nameLen, "entry name")
            let name = String(decoding: nameBytes, as: UTF8.self)
            if csize == 0xFFFF_FFFF || usize == 0xFFFF_FFFF || local == 0xFFFF_FFFF {
                throw b.fail("entry '\(name)' uses ZIP64 sizes, which are not supported")
            }
            guard seen.insert(name).inserted else {
                throw b.fail("two entries are named '\(name)' (readers disagree on which one counts; refused)")
            }
            list.append(Entry(name: name, method: method, crc32: crc, compressedSize: Int(csize),
                              uncompressedSize: Int(usize), flags: flags, localHeaderOffset: Int(local), rawName: nameBytes))
            p += 46 + nameLen + extraLen + commentLen
        }
        entries = list
    }

    /// The entry called `name`, if any.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The uncompressed contents of `name`, refused unless its declared size is at most `limit`.
    public func contents(named name: String, limit: Int = UntrustedLimits.maxArchiveEntryBytes) throws -> Data {
        guard let e = entry(named: name) else { throw bytes.fail("no entry named '\(name)'") }
        guard e.uncompressedSize <= limit else {
            throw bytes.fail("entry '\(name)' declares \(e.uncompressedSize) bytes; at most \(limit) are read")
        }
        return try contents(of: e)
    }

    /// The uncompressed contents of `entry`, with its size and CRC-32 checked.
    public func contents(of entry: Entry) throws -> Data {
        let b = bytes
        let name = entry.name
        guard entry.flags & 1 == 0 else { throw b.fail("entry '\(name)' is encrypted, which is not supported") }
        let h = entry.localHeaderOffset
        guard try b.u32(h, "local header of '\(name)'") == 0x0403_4b50 else {
            throw b.fail("bad local header signature for '\(name)' at offset \(h) (corrupt)")
        }
        let nameLen = Int(try b.u16(h + 26)), extraLen = Int(try b.u16(h + 28))
        guard try b.bytes(h + 30, nameLen, "local name of '\(name)'") == entry.rawName else {
            throw b.fail("the local header at offset \(h) names another file than the central directory's '\(name)' (corrupt)")
        }
        let start = h + 30 + nameLen + extraLen
        let raw = try b.bytes(start, entry.compressedSize, "data of '\(name)'")
        let out: Data
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw b.fail("stored entry '\(name)' has differing sizes (corrupt)")
            }
            out = raw
        case 8:
            out = try Zlib.inflate(raw, windowBits: -15, sizeHint: min(entry.uncompressedSize, raw.count * 1032 + 64),
                                   limit: entry.uncompressedSize, path: path, what: "ZIP entry '\(name)'")
        default:
            throw b.fail("entry '\(name)' uses compression method \(entry.method); only 0 (stored) and 8 (deflate) are supported")
        }
        guard out.count == entry.uncompressedSize else {
            throw b.fail("entry '\(name)' inflated to \(out.count) bytes, expected \(entry.uncompressedSize) (corrupt)")
        }
        let crc = Zlib.crc32(out)
        guard crc == entry.crc32 else {
            throw b.fail("CRC-32 mismatch for '\(name)': computed 0x\(String(crc, radix: 16)), "
                         + "recorded 0x\(String(entry.crc32, radix: 16)) (corrupt)")
        }
        return out
    }
}

/// Builds a ZIP archive of stored (uncompressed) entries in memory; `finish()` returns the bytes.
struct ZipWriter {
    private var body = Data()
    private var central = Data()
    private var names = Set<String>()
    /// Where the archive will be written (for error messages).
    let path: String

    init(path: String) { self.path = path }

    private func fail(_ message: String) -> RecurError { .io(path: path, message: "ZIP writer: \(message)") }

    /// Appends a stored entry. Names must be unique; sizes must fit without ZIP64.
    mutating func add(name: String, data: Data) throws {
        let nameBytes = Data(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= 0xFFFF else { throw fail("invalid entry name '\(name)'") }
        guard names.insert(name).inserted else { throw fail("duplicate entry name '\(name)'") }
        guard names.count < 0xFFFF else { throw fail("too many entries (ZIP64 is not supported)") }
        let offset = body.count
        guard data.count < 0xFFFF_FFFF, offset < 0xFFFF_FFFF, offset + data.count < 0xFFFF_FFFF else {
            throw fail("archive would exceed 4 GiB (ZIP64 is not supported)")
        }
        let crc = Zlib.crc32(data)
        let flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x0800  // bit 11: UTF-8 name
        let dosTime: UInt16 = 0, dosDate: UInt16 = (0 << 9) | (1 << 5) | 1  // 1980-01-01 00:00

        body.appendLE(UInt32(0x0403_4b50))
        body.appendLE(UInt16(20))  // version needed: 2.0
        body.appendLE(flags)
        body.appendLE(UInt16(0))  // stored
        body.appendLE(dosTime)
        body.appendLE(dosDate)
        body.appendLE(crc)
        body.appendLE(UInt32(data.count))
        body.appendLE(UInt32(data.count))
        body.appendLE(UInt16(nameBytes.count))
        body.appendLE(UInt16(0))  // extra length
        body.append(nameBytes)
        body.append(data)

        central.appendLE(UInt32(0x0201_4b50))
        central.appendLE(UInt16(0x031E))  // made by: Unix, spec 3.0
        central.appendLE(UInt16(20))
        central.appendLE(flags)
        central.appendLE(UInt16(0))
        central.appendLE(dosTime)
        central.appendLE(dosDate)
        central.appendLE(crc)
        central.appendLE(UInt32(data.count))
        central.appendLE(UInt32(data.count))
        central.appendLE(UInt16(nameBytes.count))
        central.appendLE(UInt16(0))  // extra
        central.appendLE(UInt16(0))  // comment
        central.appendLE(UInt16(0))  // disk start
        central.appendLE(UInt16(0))  // internal attributes
        central.appendLE(UInt32(0o100644) << 16)  // external: regular file, rw-r--r--
        central.appendLE(UInt32(offset))
        central.append(nameBytes)
    }

    /// The complete archive: entries, central directory and end record.
    func finish() throws -> Data {
        guard body.count + central.count < 0xFFFF_FFFF else { throw fail("archive would exceed 4 GiB (ZIP64 is not supported)") }
        var out = body
        out.append(central)
        out.appendLE(UInt32(0x0605_4b50))
        out.appendLE(UInt16(0))
        out.appendLE(UInt16(0))
        out.appendLE(UInt16(names.count))
        out.appendLE(UInt16(names.count))
        out.appendLE(UInt32(central.count))
        out.appendLE(UInt32(body.count))
        out.appendLE(UInt16(0))  // comment length
        return out
    }
}
