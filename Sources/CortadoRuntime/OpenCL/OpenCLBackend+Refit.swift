import COpenCL

/// Thrown by a launch inside ``OpenCLBackend/refitting(_:)`` once the table has been shrunk for a
/// kernel whose fixed work-group size the device refused: the operation runs again with it.
struct WorkGroupRefit: Error {}

/// Falling back from a refused fixed work-group size.
///
/// Reductions, LayerNorm, the fused attention kernels and the local-tiled GEMM are built for one
/// work-group size (`reqd_work_group_size`, with local arrays of that size), so the driver cannot
/// choose another at launch. A device may still refuse it: its per-kernel limit
/// (`CL_KERNEL_WORK_GROUP_SIZE`) falls with the registers and local memory a kernel uses, below the
/// device's own limit that the table was fitted to. Such an operation then runs again from its start
/// with a table whose size for that kernel fits: a refused launch did nothing, and these operations
/// only write their outputs and scratch, so running again gives what the first run would have.
extension OpenCLBackend {
    /// Set while an operation runs under ``refitting(_:)``: only there may a launch shrink the table.
    @TaskLocal static var refitScope = false

    /// Runs `body`, an operation that launches kernels built for a fixed work-group size, again
    /// each time the device refuses such a size and the table was shrunk for it. Every rerun follows
    /// a strictly smaller work-group, so this ends; a size that cannot shrink further is an error.
    func refitting<T>(_ body: () throws -> T) throws -> T {
        try Self.$refitScope.withValue(true) {
            while true {
                do {
                    return try body()
                } catch is WorkGroupRefit {
                    continue
                }
            }
        }
    }

    /// Shrinks the table after the device refused (`refused`) the compiled work-group size of kernel
    /// `name` from `family`: to the kernel's own limit when that is smaller, else to half. A tuned
    /// table first gives way to the built-in one. Returns whether the table changed (with a note),
    /// so that the operation can run again; `false` outside ``refitting(_:)``, for a kernel without a
    /// fixed size, or when its size cannot shrink (the register-blocked GEMM runs one work-item).
    func refitWorkGroup(_ handle: cl_kernel, _ name: String, _ family: KernelFamily, refused: Int32) -> Bool {
        guard Self.refitScope, let compiled = compileWorkGroupSize(handle) else { return false }
        let size = compiled.reduce(1, *)
        let kernelLimit = kernelWorkGroupLimit(handle)
        let limit = kernelLimit > 0 && kernelLimit < size ? kernelLimit : size / 2
        return table.withLock { current in
            let tunedAside = current == tunedTable
            let base = tunedAside ? builtInTable : current
            guard limit > 0, let refit = base.fitting(name, of: family, within: limit), refit != current else { return false }
            current = refit
            RuntimeNotes.emit(
                "\(device.id) refused work-group \(compiled.prefix { $0 > 0 }) for kernel \(name) (\(openCLErrorName(refused)); "
                    + "\(OpenCLFailure.limits(of: info)), at most \(kernelLimit) for this kernel); "
                    + (tunedAside ? "the tuned kernel table is set aside for the built-in one, and " : "")
                    + "its kernels are rebuilt for work-groups of at most \(limit)")
            return true
        }
    }
}

extension KernelParameters {
    /// The table with the work-group of `kernel` (built from `family`) at most `limit` work-items,
    /// the rest unchanged: the reduction or LayerNorm work-group halved, the attention tile of that
    /// kernel halved, the local-tiled GEMM's threads halved with their tile (each work-item keeps
    /// its share). `nil` when the kernel's size cannot shrink to `limit`.
    func fitting(_ kernel: String, of family: KernelFamily, within limit: Int) -> KernelParameters? {
        func fitted(_ size: Int) -> Int? {
            var size = size
            while size > limit, size > 1 { size /= 2 }
            return size <= limit ? size : nil
        }
        var table = self
        switch family {
        case .reduce:
            guard let size = fitted(reductionWorkGroup) else { return nil }
            table.reductionWorkGroup = size
        case .normalization, .softmax:
            guard let size = fitted(normalization.workGroup) else { return nil }
            table.normalization.workGroup = size
            table.normalization.itemsPerRow = min(normalization.itemsPerRow, size)
        case .attention where kernel == "attention_forward":
            guard let size = fitted(attention.queryTile) else { return nil }
            table.attention.queryTile = size
        case .attention:
            guard let size = fitted(attention.backwardTile) else { return nil }
            table.attention.backwardTile = size
        case .gemm where gemm.algorithm == .localTiled:
            while table.gemm.threadsM * table.gemm.threadsN > limit {
                if table.gemm.threadsM >= table.gemm.threadsN, table.gemm.threadsM > 1 {
                    table.gemm.threadsM /= 2
                    table.gemm.tileM /= 2
                } else if table.gemm.threadsN > 1 {
                    table.gemm.threadsN /= 2
                    table.gemm.tileN /= 2
                } else {
                    return nil
                }
            }
        default:
            return nil
        }
        return (try? table.validate()) != nil ? table : nil
    }
}
