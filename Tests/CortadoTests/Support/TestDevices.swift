import Cortado

/// The devices every op test runs on: the CPU backend, the first OpenCL device with its own
/// kernel parameters, and the same device forced onto the GPU parameter table, so the GPU kernels
/// (local-memory tiled GEMM, work-group reductions) are exercised on a CPU OpenCL such as PoCL.
///
/// CI has PoCL, so a machine without OpenCL fails these tests loudly rather than skipping them.
enum TestDevices {
    static let openCL = Device(kind: .opencl, index: 0, profile: nil)
    static let openCLWithGPUKernels = Device(kind: .opencl, index: 0, profile: .gpu)

    /// CPU, OpenCL, OpenCL with GPU kernels.
    static let all: [Device] = [.cpu, openCL, openCLWithGPUKernels]
    /// The OpenCL variants only.
    static let openCLVariants: [Device] = [openCL, openCLWithGPUKernels]
}
