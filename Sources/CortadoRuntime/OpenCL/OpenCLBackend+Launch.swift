import COpenCL

extension OpenCLBackend {
    /// A failure of `call` on this device, for ``clCheck(_:_:)``.
    func failure(
        _ call: String, kernel: String? = nil, global: [Int]? = nil, local: [Int]? = nil, bytes: Int? = nil,
        code: Int32 = 0
    ) -> OpenCLFailure {
        OpenCLFailure(call, kernel: kernel, global: global, local: local, bytes: bytes, device: device, info: info, code: code)
    }

    /// Enqueues `handle` (kernel `name`, cache key `key`). When the device refuses the work-group
    /// size (`CL_INVALID_WORK_GROUP_SIZE` or `CL_INVALID_WORK_ITEM_SIZE`) of a kernel that does not
    /// fix one at compile time (no `reqd_work_group_size`: such kernels index by global id only and
    /// ignore the excess items), the launch is retried with the size left to the driver, and that
    /// kernel is launched so from then on, with a one-time note. A kernel built for a fixed size
    /// (reductions, LayerNorm, attention, the local-tiled GEMM), refused inside ``refitting(_:)``,
    /// gets a smaller one: ``refitWorkGroup(_:_:_:refused:)`` shrinks the table and the operation
    /// runs again. Any other failure throws ``CortadoError/openCL(_:)`` with the launch size and the
    /// device's limits.
    func enqueue(
        _ handle: cl_kernel, _ name: String, _ family: KernelFamily, key: String, global: inout [Int], local: inout [Int],
        event: UnsafeMutablePointer<cl_event?>?
    ) throws {
        let dimensions = cl_uint(global.count)
        let driverChooses = driverChosenWorkGroups.withLock { $0.contains(key) }
        let sizeRefusals: Set<Int32> = [CL_INVALID_WORK_GROUP_SIZE, CL_INVALID_WORK_ITEM_SIZE]
        var status = CLFaultInjection.intercept("clEnqueueNDRangeKernel", name, ignoring: driverChooses ? sizeRefusals : []) {
            gated {
                driverChooses
                    ? clEnqueueNDRangeKernel(queue, handle, dimensions, nil, &global, nil, 0, nil, event)
                    : clEnqueueNDRangeKernel(queue, handle, dimensions, nil, &global, &local, 0, nil, event)
            }
        }
        if !driverChooses, status == CL_INVALID_WORK_GROUP_SIZE || status == CL_INVALID_WORK_ITEM_SIZE,
           compileWorkGroupSize(handle) == nil
        {
            let refused = status
            status = CLFaultInjection.intercept("clEnqueueNDRangeKernel", name, ignoring: sizeRefusals) {
                gated { clEnqueueNDRangeKernel(queue, handle, dimensions, nil, &global, nil, 0, nil, event) }
            }
            if status == CL_SUCCESS {
                driverChosenWorkGroups.withLock { _ = $0.insert(key) }
                RuntimeNotes.emit(
                    "\(device.id) refused work-group \(local) for kernel \(name) (\(openCLErrorName(refused)); "
                        + "\(OpenCLFailure.limits(of: info)), at most \(kernelWorkGroupLimit(handle)) for this kernel); "
                        + "the driver chooses its work-group size from now on")
                return
            }
        }
        guard status != CL_SUCCESS else { return }
        if !driverChooses, status == CL_INVALID_WORK_GROUP_SIZE || status == CL_INVALID_WORK_ITEM_SIZE,
           refitWorkGroup(handle, name, family, refused: status)
        {
            throw WorkGroupRefit()
        }
        var refusal = failure(
            "clEnqueueNDRangeKernel", kernel: name, global: global, local: driverChooses ? nil : local, code: status)
        if status == CL_INVALID_WORK_GROUP_SIZE || status == CL_INVALID_WORK_ITEM_SIZE {
            // What the kernel itself allows, beside the device's limits.
            let built = compileWorkGroupSize(handle).map { ", built for work-groups of \($0)" } ?? ""
            refusal.limits += "; this kernel: at most \(kernelWorkGroupLimit(handle)) work-items\(built)"
        }
        try clCheck(status, refusal)
    }

    /// Runs `enqueue` (a kernel launch) through the ``ProgramExportGate`` on PoCL, directly elsewhere.
    private func gated(_ enqueue: () -> cl_int) -> cl_int {
        exportGate.map { $0.launching(enqueue) } ?? enqueue()
    }

    /// The kernels (`program options.kernel`) launched with the work-group size left to the driver.
    package var kernelsWithDriverChosenWorkGroups: Set<String> { driverChosenWorkGroups.withLock { $0 } }

    /// The work-group size the kernel was compiled for (`reqd_work_group_size`), or `nil` when it has none.
    func compileWorkGroupSize(_ handle: cl_kernel) -> [Int]? {
        var sizes = [Int](repeating: 0, count: 3)
        let status = sizes.withUnsafeMutableBytes { bytes in
            clGetKernelWorkGroupInfo(
                handle, deviceID, cl_kernel_work_group_info(CL_KERNEL_COMPILE_WORK_GROUP_SIZE), bytes.count,
                bytes.baseAddress, nil)
        }
        guard status == CL_SUCCESS, sizes.contains(where: { $0 != 0 }) else { return nil }
        return sizes
    }

    /// The largest work-group the device runs this kernel with (`CL_KERNEL_WORK_GROUP_SIZE`).
    func kernelWorkGroupLimit(_ handle: cl_kernel) -> Int {
        clInfoValue(Int.self) {
            clGetKernelWorkGroupInfo(handle, deviceID, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE), $0, $1, $2)
        }
    }
}

extension KernelParameters {
    /// The largest work-group any kernel built from this table asks for: elementwise, reductions,
    /// LayerNorm, the local-tiled GEMM and the attention tiles.
    package var largestWorkGroup: Int {
        var sizes = [elementwiseWorkGroup, reductionWorkGroup, normalization.workGroup,
                     attention.queryTile, attention.backwardTile]
        if gemm.algorithm == .localTiled { sizes.append(gemm.threadsM * gemm.threadsN) }
        return sizes.max() ?? 1
    }

    /// The table with every work-group at most `limit` work-items: power-of-two sizes halved, the
    /// elementwise size capped, a local-tiled GEMM whose work-group is too large replaced by the
    /// CPU-type table's register-blocked one (one work-item per group).
    package func fitted(toWorkGroup limit: Int) -> KernelParameters {
        guard limit > 0, largestWorkGroup > limit else { return self }
        func halved(_ size: Int) -> Int {
            var size = size
            while size > limit, size > 1 { size /= 2 }
            return size
        }
        var table = self
        table.elementwiseWorkGroup = min(elementwiseWorkGroup, limit)
        table.reductionWorkGroup = halved(reductionWorkGroup)
        table.normalization.workGroup = halved(normalization.workGroup)
        table.normalization.itemsPerRow = min(normalization.itemsPerRow, table.normalization.workGroup)
        table.attention.queryTile = halved(attention.queryTile)
        table.attention.backwardTile = halved(attention.backwardTile)
        if gemm.algorithm == .localTiled, gemm.threadsM * gemm.threadsN > limit {
            table.gemm = KernelParameters.defaults(for: .cpu).gemm
        }
        return table
    }
}
