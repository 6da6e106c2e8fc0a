// swift-tools-version:6.0
// libFuzzer harnesses for Recur's file readers (see README.md). Built by scripts/fuzz.sh with
// `--sanitize=fuzzer --sanitize=address`; each executable is a libFuzzer binary.
import PackageDescription

let harness = { (name: String) in
    Target.executableTarget(name: name, dependencies: [.product(name: "Recur", package: "Recur")], path: "Sources/\(name)")
}

let package = Package(
    name: "RecurFuzz",
    dependencies: [.package(name: "Recur", path: "..")],
    targets: ["FuzzNpy", "FuzzZip", "FuzzConfig", "FuzzWeights", "FuzzIDX", "FuzzEvents"].map(harness),
    swiftLanguageModes: [.v5]
)
