// swift-tools-version: 6.0
// Cortado: a deep-learning compute backend in Swift with its own OpenCL kernels and an OpenBLAS CPU path.
//
// Layers, each a target with one job (a target imports only the ones above it):
//   COpenCL, COpenBLAS      C bridges, found through pkg-config
//   CortadoRuntime          devices, buffers, the caching allocator, CPU and OpenCL backends, kernels
//   Cortado                 tensors, ops and reverse-mode autograd (the library product)
//   CortadoCLI              the `cortado` command (the only target that imports ArgumentParser)
import PackageDescription

let package = Package(
    name: "Cortado",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Cortado", targets: ["Cortado"]),
        .executable(name: "cortado", targets: ["CortadoCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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

        // Kernels/*.cl are compiled into the binary as Swift string literals at build time.
        .executableTarget(name: "KernelEmbedderTool", path: "Plugins/KernelEmbedderTool"),
        .plugin(name: "EmbedKernels", capability: .buildTool(), dependencies: ["KernelEmbedderTool"]),

        .target(
            name: "CortadoRuntime",
            dependencies: ["COpenCL", "COpenBLAS"],
            plugins: ["EmbedKernels"]
        ),
        .target(name: "Cortado", dependencies: ["CortadoRuntime"]),
        .executableTarget(
            name: "CortadoCLI",
            dependencies: [
                "Cortado",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "CortadoTests", dependencies: ["Cortado"]),
    ]
)
