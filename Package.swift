// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Recur",
    products: [
        .library(name: "Recur", targets: ["Recur"]),
        .library(name: "RecurTensor", targets: ["RecurTensor"]),
        .library(name: "RecurExamples", targets: ["RecurExamples"]),
        .library(name: "RecurMPI", targets: ["RecurMPI"]),
        .executable(name: "recur", targets: ["RecurCLI"]),
    ],
    // MPI (Open MPI) for `recur train --distributed`, on by default; `./run.sh dist` builds the
    // self-contained binary without it (`--disable-default-traits`).
    traits: [
        .trait(name: "MPI", description: "Data-parallel training over MPI in the recur CLI (links Open MPI)."),
        .default(enabledTraits: ["MPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation --target Recur` builds the DocC catalog (CI does).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // TensorBoard event files are protocol buffers (the generated code is committed).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        // Open MPI by its own pkg-config name (`mpi-c` is a Debian alternative that may point at MPICH).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .target(name: "CRecurKernels"),
        // NVIDIA's driver, cuBLAS and cuDNN, found at run time with dlopen (no NVIDIA file at build time).
        .target(name: "CRecurCUDA", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "RecurTensor", dependencies: ["CBLAS", "CRecurKernels", "CRecurCUDA"]),
        .target(name: "Recur", dependencies: ["RecurTensor", "CZlib", "CHDF5",
                                             .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // The Keras RNN guide's models and its NestedCell, written with Recur's public API only: the CLI
        // runs them and the tests check them, and they compile as a user's package would.
        .target(name: "RecurExamples", dependencies: ["Recur"]),
        // Data-parallel fit over MPI; the core library stays free of MPI.
        .target(name: "RecurMPI", dependencies: ["Recur", "CMPI"]),
        // The CLI lives in Sources/RecurCLI: a folder named `recur` beside `Recur` is one folder on a
        // case-insensitive file system (macOS) and the package would not build there.
        .executableTarget(name: "RecurCLI", dependencies: [
            "Recur", "RecurExamples", .target(name: "RecurMPI", condition: .when(traits: ["MPI"])),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The data-parallel check the tests launch with mpirun (not a product).
        .executableTarget(name: "RecurMPICheck", dependencies: ["Recur", "RecurExamples", "RecurMPI"]),
        .testTarget(name: "RecurTensorTests", dependencies: ["RecurTensor"]),
        .testTarget(name: "RecurTests", dependencies: ["Recur", "RecurExamples"],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
