/// How many terminal cells text takes, as Keras's summary measures it (it prints through Rich): the
/// cells of each Unicode scalar — 2 for East Asian wide and fullwidth characters and emoji shown as
/// emoji, 0 for controls, combining marks, format characters and Hangul's conjoining vowels and
/// finals, 1 otherwise — with Rich's two rules for emoji sequences: a zero-width joiner hides itself
/// and the scalar it joins, and a variation selector 16 widens the narrow emoji before it.
///
/// The wide ranges are Unicode's East Asian Width classes W and F (EastAsianWidth.txt), by block; the
/// emoji ones come from the scalar's `isEmojiPresentation` property.
enum TerminalCells {
    /// The blocks of East Asian wide (W) and fullwidth (F) characters, besides the emoji.
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F,  // Hangul Jamo initial consonants
        0x2329...0x232A,  // angle brackets
        0x2630...0x2637,  // trigrams
        0x268A...0x268F,  // monograms and digrams
        0x2E80...0x303E,  // CJK radicals, Kangxi radicals, ideographic description, CJK symbols and punctuation
        0x3041...0x3247,  // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes, enclosed
        0x3250...0x33FF,  // enclosed CJK letters and months, CJK compatibility
        0x3400...0x4DFF,  // CJK unified ideographs extension A, Yijing hexagrams
        0x4E00...0x9FFF,  // CJK unified ideographs
        0xA000...0xA4CF,  // Yi syllables and radicals
        0xA960...0xA97F,  // Hangul Jamo extended A
        0xAC00...0xD7A3,  // Hangul syllables
        0xF900...0xFAFF,  // CJK compatibility ideographs
        0xFE10...0xFE19,  // vertical forms
        0xFE30...0xFE6F,  // CJK compatibility forms, small form variants
        0xFF00...0xFF60,  // fullwidth forms
        0xFFE0...0xFFE6,  // fullwidth signs
        0x16FE0...0x16FFF,  // ideographic symbols and punctuation
        0x17000...0x18CFF,  // Tangut, Khitan small script
        0x18D00...0x18DFF,  // Tangut supplement
        0x1AFF0...0x1B2FF,  // Kana extended and supplement, Nushu
        0x1D300...0x1D376,  // Tai Xuan Jing symbols, counting rods
        0x1F200...0x1F2FF,  // enclosed ideographic supplement
        0x20000...0x2FFFD,  // CJK extensions B to F, compatibility supplement
        0x30000...0x3FFFD,  // CJK extensions G and H
    ]

    /// Format characters that take a cell: the soft hyphen and the prepended concatenation marks.
    private static let visibleFormatCharacters: Set<UInt32> = [0xAD, 0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x6DD, 0x70F,
                                                               0x890, 0x891, 0x8E2, 0x110BD, 0x110CD]

    /// The cells of one scalar.
    static func cells(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        if v < 0x300 { return 1 }
        // Hangul's conjoining vowels and finals and its fillers, the emoji skin-tone modifiers.
        if (0x1160...0x11FF).contains(v) || (0xD7B0...0xD7FF).contains(v) || v == 0x3164 || v == 0xFFA0
            || (0x1F3FB...0x1F3FF).contains(v) { return 0 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .spacingMark, .lineSeparator, .paragraphSeparator: return 0
        case .format: return visibleFormatCharacters.contains(v) ? 1 : 0
        default: break
        }
        // Regional indicators are emoji only in pairs (flags); alone, Rich gives them one cell.
        if scalar.properties.isEmojiPresentation && !(0x1F1E6...0x1F1FF).contains(v) { return 2 }
        return wideRanges.contains { $0.contains(v) } ? 2 : 1
    }

    /// The cells of `text`.
    static func count(_ text: Substring) -> Int {
        var total = 0
        var lastMeasured: Unicode.Scalar?
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar.value {
            case 0x200D:  // a joiner: it and the scalar it joins take no cells
                _ = scalars.next()
            case 0xFE0F:  // emoji presentation of the scalar before, when it is narrow
                if let last = lastMeasured, cells(of: last) == 1, last.properties.isEmoji { total += 1 }
                lastMeasured = nil
            default:
                let width = cells(of: scalar)
                if width > 0 { lastMeasured = scalar; total += width }
            }
        }
        return total
    }
}
