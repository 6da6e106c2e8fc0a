import Foundation

/// Training curves as an SVG image: what Keras users draw from `history.history` with matplotlib.
///
/// Written by hand: the listed Swift package for HTML/XML (Plot) has no chart or SVG geometry, and the
/// SVG needed is a few elements — per metric a panel with axes, ticks, labels, a polyline per series
/// (training solid, validation dashed, per-step training thin) and a legend.
extension History {
    /// The SVG document of the curves: one panel per metric (`loss`, `accuracy`, ...) over epochs —
    /// training and validation (`val_…`) values at each epoch's end, and the training running average
    /// after every step in a thin line.
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
        let (left, right, upper, lower) = (64.0, 170.0, 28.0, 40.0)
        let plotWidth = width - left - right, plotHeight = height - upper - lower
        // Epoch values sit at the end of their epoch (epoch index + 1); step values inside it.
        let epochCount: Int = history.values.map { $0.count }.max() ?? 0
        let epochPositions: [Double] = (0..<epochCount).map { (i: Int) -> Double in
            Double(epochs.indices.contains(i) ? epochs[i] + 1 : i + 1)
        }
        var series: [Curve] = []
        if let values = history[metric] {
            series.append(Curve(values: values, positions: epochPositions, label: "training", colour: "#1f77b4", style: " stroke-width=\"2\"", marks: true))
        }
        if let values = history["val_" + metric] {
            series.append(Curve(values: values, positions: epochPositions, label: "validation", colour: "#ff7f0e",
                                style: " stroke-width=\"2\" stroke-dasharray=\"6 4\"", marks: true))
        }
        if let values = stepHistory[metric] {
            series.append(Curve(values: values, positions: stepPositions, label: "training, per step", colour: "#9ecae1",
                                style: " stroke-width=\"1\"", marks: false))
        }
        let all: [Float] = series.flatMap(\.values).filter(\.isFinite)
        var (low, high) = (Double(all.min() ?? 0), Double(all.max() ?? 1))
        if high - low < 1e-9 { (low, high) = (low - 0.5, high + 0.5) }
        let positions: [Double] = series.flatMap(\.positions)
        var first: Double = stepPositions.isEmpty ? positions.min() ?? 1 : Double(epochs.first ?? 0)
        var last: Double = positions.max() ?? 1
        if last - first < 1e-9 { (first, last) = (first - 0.5, last + 0.5) }
        func x(_ position: Double) -> Double { left + plotWidth * (position - first) / (last - first) }
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
        // Ticks at whole epochs, at most about eight.
        let firstTick = Int(first.rounded(FloatingPointRoundingRule.up)), lastTick = Int(last.rounded(FloatingPointRoundingRule.down))
        let tickStep = max(1, Int((Double(lastTick - firstTick + 1) / 8).rounded(.up)))
        for tick in stride(from: firstTick, through: lastTick, by: tickStep) {
            let tx = x(Double(tick))
            out += "<line x1=\"\(f(tx))\" y1=\"\(f(top + upper + plotHeight))\" x2=\"\(f(tx))\" y2=\"\(f(top + upper + plotHeight + 5))\" stroke=\"black\"/>"
            out += "<text x=\"\(f(tx))\" y=\"\(f(top + upper + plotHeight + 18))\" text-anchor=\"middle\">\(tick)</text>\n"
        }
        out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + height - 6))\" text-anchor=\"middle\">epoch</text>\n"
        for (k, s) in series.enumerated() {
            let points = zip(s.positions, s.values).filter { $0.1.isFinite }.map { "\(f(x($0.0))),\(f(y(Double($0.1))))" }
            out += "<polyline fill=\"none\" stroke=\"\(s.colour)\"\(s.style) points=\"\(points.joined(separator: " "))\"/>\n"
            if s.marks { for p in points { out += "<circle cx=\"\(p.split(separator: ",")[0])\" cy=\"\(p.split(separator: ",")[1])\" r=\"3\" fill=\"\(s.colour)\"/>" } }
            let legendY = top + upper + 14 + Double(k) * 18
            out += "\n<line x1=\"\(f(left + plotWidth + 16))\" y1=\"\(f(legendY))\" x2=\"\(f(left + plotWidth + 40))\" y2=\"\(f(legendY))\" "
                + "stroke=\"\(s.colour)\"\(s.style)/>"
            out += "<text x=\"\(f(left + plotWidth + 46))\" y=\"\(f(legendY + 4))\">\(s.label)</text>\n"
        }
        return out + "</g>\n"
    }

    /// One line of a panel: values at positions along the epoch axis.
    private struct Curve {
        let values: [Float]
        let positions: [Double]
        let label: String
        let colour: String
        /// Extra SVG attributes (width, dashes).
        let style: String
        /// Whether each point gets a dot.
        let marks: Bool
    }
}
