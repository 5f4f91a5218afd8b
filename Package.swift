// swift-tools-version: 6.0
// Cortado: a deep-learning compute backend in Swift with its own OpenCL kernels and an OpenBLAS CPU path.
//
// Layers, each a target with one job (a target imports only the ones above it):
//   COpenCL, COpenBLAS, CZlib, CMPI  C bridges, found through pkg-config
//   CVectorMath                vectorised exp/tanh/GELU and Adam loops in C, one per instruction set, picked at run time
//   CortadoRuntime             devices, buffers, the caching allocator, CPU and OpenCL backends, kernels
//   Cortado                    tensors, ops and reverse-mode autograd
//   CortadoCheck               the cross-backend op table and `cortado check`: a device against the CPU backend
//   CortadoNN                  modules and layers, initialisers, losses, optimizers, schedules
//   CortadoTraining            datasets and loaders, built-in models, checkpoints, the training recipe and loop,
//                              data-parallel training over any Communicator
//   CortadoMPI                 the Communicator on MPI (initialised only under an MPI launcher)
//   CortadoFormats             the ecosystem's formats: ONNX export, TensorBoard event files, SVG curves
//   CortadoCLI                 the `cortado` command (the only target that imports ArgumentParser)
import PackageDescription

let package = Package(
    name: "Cortado",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Cortado", targets: ["Cortado"]),
        .library(name: "CortadoNN", targets: ["CortadoNN"]),
        .library(name: "CortadoCheck", targets: ["CortadoCheck"]),
        .library(name: "CortadoTraining", targets: ["CortadoTraining"]),
        .library(name: "CortadoBenchmarks", targets: ["CortadoBenchmarks"]),
        .library(name: "CortadoMPI", targets: ["CortadoMPI"]),
        .library(name: "CortadoFormats", targets: ["CortadoFormats"]),
        .executable(name: "cortado", targets: ["CortadoCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        // `swift package generate-documentation` for the DocC catalogs (Sources/*/*.docc); used only by that command.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", exact: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenCL",
            pkgConfig: "OpenCL",
            providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),

        .target(name: "CVectorMath"),

        // Kernels/*.cl are compiled into the binary as Swift string literals at build time.
        .executableTarget(name: "KernelEmbedderTool", path: "Plugins/KernelEmbedderTool"),
        .plugin(name: "EmbedKernels", capability: .buildTool(), dependencies: ["KernelEmbedderTool"]),

        .target(
            name: "CortadoRuntime",
            dependencies: ["COpenCL", "COpenBLAS", "CVectorMath"],
            plugins: ["EmbedKernels"]
        ),
        .target(name: "Cortado", dependencies: ["CortadoRuntime"]),
        .target(name: "CortadoNN", dependencies: ["Cortado"]),
        // The cross-backend table of ops, run by the tests and by `cortado check` on a new device.
        .target(name: "CortadoCheck", dependencies: ["Cortado"]),
        .target(name: "CortadoTraining", dependencies: ["CortadoNN", "CZlib"]),
        .target(name: "CortadoBenchmarks", dependencies: ["CortadoTraining"]),
        .target(name: "CortadoMPI", dependencies: ["CortadoTraining", "CMPI"]),
        // The ecosystem's file formats: ONNX export, TensorBoard event files, SVG curves. The protobuf
        // messages are generated once from the upstream .proto files (Protos/) and committed.
        .target(
            name: "CortadoFormats",
            dependencies: ["CortadoTraining", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Protos"]
        ),
        .executableTarget(
            name: "CortadoCLI",
            dependencies: [
                "CortadoTraining",
                "CortadoBenchmarks",
                "CortadoCheck",
                "CortadoMPI",
                "CortadoFormats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // One test target, in folders by layer; it depends on the CLI so that command-line tests
        // can run the freshly built `cortado` binary.
        // Fixtures/ holds reference files that tests read by path (relative to #filePath).
        .testTarget(
            name: "CortadoTests", dependencies: ["CVectorMath", "CortadoRuntime", "Cortado", "CortadoNN", "CortadoCheck", "CortadoTraining", "CortadoBenchmarks", "CortadoMPI", "CortadoFormats", "CortadoCLI"],
            exclude: ["Fixtures"]
        ),
    ]
)
