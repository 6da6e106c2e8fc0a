import Testing
@testable import RecurTensor

/// `gemm`'s product of at most 4 rows (`recur_gemm_few_rows`: register blocks of a width chosen per
/// row count and vector width, then blocks of 8 columns, then the last columns one by one) against a
/// product in double precision, for widths that fill each tier or leave it partly empty, reading B's rows
/// in both orders, writing or adding to C.
@Suite("Few-row products")
struct FewRowsProductTests {
    @Test(arguments: [1, 2, 3, 4], [3, 8, 20, 64, 148, 256, 300, 1000])
    func matchesDoublePrecision(rows m: Int, columns n: Int) {
        for k in [1, 7, 64] {
            var generator = SeededGenerator(seed: UInt64(m * 10_000 + n * 10 + k))
            let a = Tensor.randomUniform([m, k], low: -1, high: 1, generator: &generator)
            let b = Tensor.randomUniform([k, n], low: -1, high: 1, generator: &generator)
            let start = Tensor.randomUniform([m, n], low: -1, high: 1, generator: &generator)
            let (av, bv, sv) = (a.scalars, b.scalars, start.scalars)
            for descending in [false, true] {
                for accumulate in [false, true] {
                    let c = try! Tensor(shape: [m, n], scalars: sv)
                    gemm(a.base, transposeA: false, b.base, transposeB: false, c.base, m: m, n: n, k: k,
                         beta: accumulate ? 1 : 0, descending: descending)
                    let got = c.scalars
                    var worst = 0.0
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum = accumulate ? Double(sv[i * n + j]) : 0
                            for p in 0..<k { sum += Double(av[i * k + p]) * Double(bv[p * n + j]) }
                            worst = max(worst, abs(sum - Double(got[i * n + j])))
                        }
                    }
                    #expect(worst < 1e-4, "m \(m) n \(n) k \(k) descending \(descending) accumulate \(accumulate): worst \(worst)")
                }
            }
        }
    }
}
