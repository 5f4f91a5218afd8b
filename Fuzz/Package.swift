// swift-tools-version: 6.0
// libFuzzer targets for Cortado's parsers, built with `-sanitize=fuzzer` by tools/fuzz (not part of
// the main package, so a plain `swift build` never needs the fuzzer runtime).
//
//   tools/fuzz                       build, then run every target for 60 s
//   tools/fuzz safetensors 600       one target for 10 minutes
//
// Every Swift module is built with AddressSanitizer and libFuzzer's coverage instrumentation
// (`-sanitize=address -sanitize-coverage=…`, which tools/fuzz passes); only this executable links
// libFuzzer itself, whose `main` would clash with the kernel-embedding build tool's.
//
// One executable holds every target; CORTADO_FUZZ_TARGET picks the parser. Seed corpora live in
// Fuzz/Corpus/<target>/; crashing inputs libFuzzer finds go to Fuzz/Crashes/<target>/, to be kept as
// regression tests (Tests/CortadoTests/Hostile/).
import PackageDescription

let package = Package(
    name: "CortadoFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Cortado", path: "..")],
    targets: [
        .executableTarget(
            name: "CortadoFuzz",
            dependencies: [.product(name: "CortadoTraining", package: "Cortado")],
            // libFuzzer provides `main`; the target only defines LLVMFuzzerTestOneInput.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer"])]
        ),
    ]
)
