import Foundation

/// Training curves as an SVG image: what Keras users draw from `history.history` with matplotlib.
///
/// Written by hand: the listed Swift package for HTML/XML (Plot) has no chart or SVG geometry, and the
/// SVG needed is a few elements — per metric a panel with axes, ticks, labels, a polyline per series
/// (training solid, validation dashed) and a legend.
extension History {
    /// The SVG document of the curves: one panel per metric (`loss`, `accuracy`, ...), training and
    /// validation (`val_…`) values per epoch.
    public func svg(width: Int = 720, panelHeight: Int = 260) -> String {
        let metrics = history.keys.filter { !$0.hasPrefix("val_") }.sorted { a, b in
            (a == "loss" ? 0 : 1, a) < (b == "loss" ? 0 : 1, b)
        }
        let height = max(1, metrics.count) * panelHeight
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>

        """
        for (panel, metric) in metrics.enumerated() {
            out += curvesPanel(metric, top: Double(panel * panelHeight), width: Double(width), height: Double(panelHeight))
        }
        return out + "</svg>\n"
    }

    /// Writes `svg()` to `path` (atomically).
    public func plot(to path: String) throws {
        try RecurFileIO.writeAtomically(Data(svg().utf8), path: path)
    }

    private func curvesPanel(_ metric: String, top: Double, width: Double, height: Double) -> String {
        let (left, right, upper, lower) = (64.0, 150.0, 28.0, 40.0)
        let plotWidth = width - left - right, plotHeight = height - upper - lower
        let series = [(metric, "training", "#1f77b4", ""), ("val_" + metric, "validation", "#ff7f0e", " stroke-dasharray=\"6 4\"")]
            .compactMap { name, label, colour, dash in history[name].map { (values: $0, label: label, colour: colour, dash: dash) } }
        let all = series.flatMap(\.values).filter(\.isFinite)
        var (low, high) = (Double(all.min() ?? 0), Double(all.max() ?? 1))
        if high - low < 1e-9 { (low, high) = (low - 0.5, high + 0.5) }
        let epochsShown = max(series.map(\.values.count).max() ?? 1, 1)
        func x(_ i: Int) -> Double { left + (epochsShown == 1 ? plotWidth / 2 : plotWidth * Double(i) / Double(epochsShown - 1)) }
        func y(_ v: Double) -> Double { top + upper + plotHeight * (1 - (v - low) / (high - low)) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var out = "<g>\n<text x=\"\(f(left))\" y=\"\(f(top + 18))\" font-weight=\"bold\">\(metric)</text>\n"
        // Axes: x at the bottom, y on the left, with ticks and labels.
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top + upper + plotHeight))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top + upper + plotHeight))\" stroke=\"black\"/>\n"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top + upper))\" x2=\"\(f(left))\" y2=\"\(f(top + upper + plotHeight))\" stroke=\"black\"/>\n"
        for k in 0...4 {
            let v = low + (high - low) * Double(k) / 4
            out += "<line x1=\"\(f(left - 5))\" y1=\"\(f(y(v)))\" x2=\"\(f(left))\" y2=\"\(f(y(v)))\" stroke=\"black\"/>"
            out += "<text x=\"\(f(left - 8))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.3g", v))</text>\n"
        }
        let step = max(1, Int((Double(epochsShown) / 8).rounded(.up)))
        for i in stride(from: 0, to: epochsShown, by: step) {
            out += "<line x1=\"\(f(x(i)))\" y1=\"\(f(top + upper + plotHeight))\" x2=\"\(f(x(i)))\" y2=\"\(f(top + upper + plotHeight + 5))\" stroke=\"black\"/>"
            out += "<text x=\"\(f(x(i)))\" y=\"\(f(top + upper + plotHeight + 18))\" text-anchor=\"middle\">\(epochs.indices.contains(i) ? epochs[i] + 1 : i + 1)</text>\n"
        }
        out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + height - 6))\" text-anchor=\"middle\">epoch</text>\n"
        for (k, s) in series.enumerated() {
            let points = s.values.enumerated().filter { $0.element.isFinite }.map { "\(f(x($0.offset))),\(f(y(Double($0.element))))" }
            out += "<polyline fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"2\"\(s.dash) points=\"\(points.joined(separator: " "))\"/>\n"
            for p in points { out += "<circle cx=\"\(p.split(separator: ",")[0])\" cy=\"\(p.split(separator: ",")[1])\" r=\"3\" fill=\"\(s.colour)\"/>" }
            let legendY = top + upper + 14 + Double(k) * 18
            out += "\n<line x1=\"\(f(left + plotWidth + 16))\" y1=\"\(f(legendY))\" x2=\"\(f(left + plotWidth + 40))\" y2=\"\(f(legendY))\" "
                + "stroke=\"\(s.colour)\" stroke-width=\"2\"\(s.dash)/>"
            out += "<text x=\"\(f(left + plotWidth + 46))\" y=\"\(f(legendY + 4))\">\(s.label)</text>\n"
        }
        return out + "</g>\n"
    }
}
