import Testing
@testable import RecurTensor

@Suite("Gradients of every op against finite differences")
struct OpGradientTests {
    @Test func addSubtractWithBroadcasting() throws {
        try checkGradients([random([2, 3, 4], seed: 1), random([3, 1], seed: 2)]) { try $0[0] + $0[1] }
        try checkGradients([random([4], seed: 3), random([2, 3, 4], seed: 4)]) { try $0[0] - $0[1] }
        try checkGradients([random([2, 3], seed: 5), random([], seed: 6)]) { try $0[0] - $0[1] }
    }

    @Test func multiplyDivideWithBroadcasting() throws {
        try checkGradients([random([2, 1, 4], seed: 7), random([3, 4], seed: 8)]) { try $0[0] * $0[1] }
        try checkGradients([random([2, 3], seed: 9), random([2, 1], seed: 10, low: 0.5, high: 2)]) { try $0[0] / $0[1] }
        try checkGradients([random([2, 3], seed: 11)]) { $0[0] * 3 - 2 }
    }

    @Test func unaryFunctions() throws {
        let x = random([3, 5], seed: 12, low: -2, high: 2)
        try checkGradients([x]) { $0[0].exp() }
        try checkGradients([x]) { $0[0].tanh() }
        try checkGradients([x]) { $0[0].sigmoid() }
        try checkGradients([x]) { $0[0].relu() }
        try checkGradients([x]) { -$0[0] }
        try checkGradients([x]) { try $0[0].abs() }
        try checkGradients([x]) { try $0[0].squared() }
        let positive = random([3, 5], seed: 13, low: 0.5, high: 3)
        try checkGradients([positive]) { $0[0].log() }
        try checkGradients([positive]) { try $0[0].sqrt() }
        try checkGradients([x, random([5], seed: 14)]) { try $0[0].maximum($0[1]) }
        try checkGradients([x]) { try $0[0].clipped(min: -0.5, max: 0.5) }
    }

    @Test func matmulInEveryLayout() throws {
        let a = random([3, 4], seed: 15), b = random([4, 5], seed: 16)
        try checkGradients([a, b]) { try $0[0].matmul($0[1]) }
        try checkGradients([random([4, 3], seed: 17), b]) { try $0[0].matmul($0[1], transposingSelf: true) }
        try checkGradients([a, random([5, 4], seed: 18)]) { try $0[0].matmul($0[1], transposingOther: true) }
        try checkGradients([random([4, 3], seed: 19), random([5, 4], seed: 20)]) {
            try $0[0].matmul($0[1], transposingSelf: true, transposingOther: true)
        }
        try checkGradients([random([2, 3, 4], seed: 21), b]) { try $0[0].matmul($0[1]) }
        try checkGradients([random([2, 3, 4], seed: 22), random([2, 4, 5], seed: 23)]) { try $0[0].matmul($0[1]) }
    }

    @Test func shapeOps() throws {
        let x = random([2, 3, 4], seed: 24)
        try checkGradients([x]) { try $0[0].reshaped(to: [6, -1]) }
        try checkGradients([x]) { try $0[0].transposed([2, 0, 1]) }
        try checkGradients([random([3, 4], seed: 25)]) { try $0[0].transposed() }
        try checkGradients([x]) { try $0[0].slice(alongAxis: 1, 1..<3) }
        try checkGradients([x]) { try $0[0].select(alongAxis: 2, index: 3) }
        try checkGradients([x, random([2, 2, 4], seed: 26)]) { try Tensor.concatenate([$0[0], $0[1]], alongAxis: 1) }
        try checkGradients([x]) { xs in
            let parts = try xs[0].split(sizes: [1, 3], alongAxis: 2)
            return try parts[0] * parts[1]
        }
        try checkGradients([x, x]) { try Tensor.stack([$0[0], $0[1]], alongAxis: 1) }
        try checkGradients([x]) { try Tensor.stack($0[0].unstacked(alongAxis: 1).reversed(), alongAxis: 0) }
        try checkGradients([x]) { try $0[0].reversed(alongAxis: 1) }
        try checkGradients([x]) { try $0[0].expandingDimensions(at: 1) }
    }

    @Test func reductions() throws {
        let x = random([2, 3, 4], seed: 27)
        try checkGradients([x]) { $0[0].sum() }
        try checkGradients([x]) { $0[0].mean() }
        try checkGradients([x]) { try $0[0].sum(alongAxes: [0, 2]) }
        try checkGradients([x]) { try $0[0].sum(alongAxis: 1, keepingDimensions: true) }
        try checkGradients([x]) { try $0[0].mean(alongAxis: -1) }
        try checkGradients([x]) { try $0[0].max(alongAxis: 1) }
    }

    @Test func softmaxGatherSelect() throws {
        let x = random([3, 5], seed: 28, low: -2, high: 2)
        try checkGradients([x]) { try $0[0].softmax() }
        try checkGradients([x]) { try $0[0].logSoftmax() }
        let ids = try Tensor(shape: [2, 3], scalars: [0, 2, 2, 1, 0, 2])
        try checkGradients([x]) { try $0[0].gather(ids) }
        let cond = try Tensor(shape: [3, 5], scalars: (0..<15).map { Float($0 % 2) })
        try checkGradients([x, random([3, 5], seed: 29)]) { try Tensor.select(cond, $0[0], $0[1]) }
    }

    @Test func reuseAccumulatesGradients() throws {
        // y = x·x + x uses x three times: dy/dx = 2x + 1.
        let x = Tensor([1.5, -2]).requiringGradient()
        let y = try (x * x + x).sum()
        let g = try gradients(of: y, wrt: [x])[0]
        #expect(g.scalars == [4, -3])
    }
}
