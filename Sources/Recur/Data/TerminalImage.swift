/// A grayscale image drawn in a terminal, as the guide shows the predicted digit with `plt.imshow`.
///
/// On a terminal, two pixel rows per text row: "▀" (upper half block) with the top pixel as the
/// foreground and the bottom one as the background, in the 256-colour palette's 24 greys (232–255,
/// ECMA-48 SGR 38;5 and 48;5). Elsewhere (a pipe, a log) plain text: one character per pixel from a
/// ramp of increasing ink.
public enum TerminalImage {
    /// `image` (height, width), values in [0, 1]; `color` for a terminal, plain text otherwise.
    public static func render(_ image: Tensor, color: Bool) throws -> String {
        let (height, width, pixels) = try image.grayscaleValues(for: "TerminalImage")
        func pixel(_ r: Int, _ c: Int) -> Float { r < height ? pixels[r * width + c] : 0 }
        var out = ""
        if color {
            func grey(_ v: Float) -> Int { 232 + Int((v * 23).rounded()) }
            for r in stride(from: 0, to: height, by: 2) {
                for c in 0..<width { out += "\u{1B}[38;5;\(grey(pixel(r, c)))m\u{1B}[48;5;\(grey(pixel(r + 1, c)))m▀" }
                out += "\u{1B}[0m\n"
            }
        } else {
            let ramp = Array(" .:-=+*#%@")
            for r in 0..<height {
                out += String((0..<width).map { ramp[Int((pixel(r, $0) * Float(ramp.count - 1)).rounded())] }) + "\n"
            }
        }
        return out
    }
}
