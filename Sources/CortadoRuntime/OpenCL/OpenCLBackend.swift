import COpenCL
import Foundation
import Synchronization

/// Runs operations on one OpenCL device through one context and one in-order queue.
///
/// Operations enqueue and return; the host waits only in ``read(_:atByte:into:)`` and
/// ``synchronize()``. Programs are built once per process (see ``ProgramCache``); kernels use the
/// launch parameters of the device's type, or of a forced ``KernelProfile``.
package final class OpenCLBackend: Backend, @unchecked Sendable {
    package let device: Device
    package let allocator: CachingAllocator
    /// What the device is.
    let info: DeviceInfo
    /// The launch-parameter table in use: the one chosen at start, until the device refuses the
    /// work-group size of a kernel built for a fixed one (see ``refitting(_:)``).
    package var parameters: KernelParameters { table.withLock { $0 } }
    /// The table behind ``parameters``.
    let table: Locked<KernelParameters>
    /// The tuned table loaded from the store, if the backend started with it.
    let tunedTable: KernelParameters?
    /// The built-in table of the device's type, fitted to its work-group limit: what a refused
    /// tuned table gives way to.
    let builtInTable: KernelParameters
    let context: cl_context
    let queue: cl_command_queue
    /// A second queue, for mapping and unmapping pinned staging memory (``makeHostStaging(bytes:)``)
    /// without waiting for the work on ``queue``.
    let stagingQueue: cl_command_queue
    let deviceID: cl_device_id
    let programs: ProgramCache
    /// The process's ``ProgramExportGate`` on PoCL, `nil` elsewhere.
    let exportGate: ProgramExportGate?
    /// Whether the queue was made with `CL_QUEUE_PROFILING_ENABLE`.
    let eventProfiling: Bool
    /// Whether the device has `cl_khr_integer_dot_product` (int8 products use its `dot` on `char4`).
    let integerDotProduct: Bool
    /// Whether int8 products run on integers (`quantized_gemm`), else on the operands dequantised
    /// to float (the float product): by default, when the device has ``integerDotProduct``.
    let integerProducts: Bool

    /// Kernel objects and the staged uploads; kernel arguments are set and enqueued under this lock
    /// because a `cl_kernel` holds its arguments.
    struct LaunchState {
        var kernels: [String: cl_kernel] = [:]
        var pendingUploads: [(event: cl_event, staging: HostStaging)] = []
        /// Pinned staging blocks free for uploads, by size (see ``OpenCLBackend/uploadStaging(count:)``).
        var freeStaging: [Int: [HostStaging]] = [:]
        /// Bytes in ``freeStaging``.
        var freeStagingBytes = 0
        /// Staging blocks made for uploads since start (a steady state makes none).
        var stagingBlocksMade = 0
        var profiler: KernelProfiler?
        /// Every launch's event, while operations are recorded (``OperationProfiling``).
        var trace: KernelTrace?
    }
    let launchState = Locked(LaunchState())
    /// Kernels (by program options and name) whose work-group size the device refused: they are
    /// launched with the size left to the driver (see ``enqueue(_:_:key:global:local:event:)``).
    let driverChosenWorkGroups = Locked<Set<String>>([])

    /// - Parameters:
    ///   - parameters: the launch parameters; by default the tuned ones stored for this device (see
    ///     ``TunedParameterStore``), else the built-in table of its type (or of a forced profile).
    ///   - integerProducts: ``integerProducts``; `nil` for the device's default.
    package init(
        record: OpenCLDeviceRecord, device: Device, parameters: KernelParameters? = nil,
        store: TunedParameterStore = TunedParameterStore(), integerProducts: Bool? = nil
    ) throws {
        self.device = device
        self.info = record.info
        self.deviceID = record.deviceID
        let recordID = record.deviceID
        self.integerDotProduct = clInfoString { clGetDeviceInfo(recordID, cl_device_info(CL_DEVICE_EXTENSIONS), $0, $1, $2) }
            .split(separator: " ").contains("cl_khr_integer_dot_product")
        self.integerProducts = integerProducts ?? integerDotProduct
        var tuned: KernelParameters?
        if device.profile == nil, parameters == nil {
            switch store.load(for: record.info) {
            case let .success(entry)?: tuned = entry.parameters
            case let .failure(problem)?: RuntimeNotes.emit("\(problem)")
            case nil: break
            }
        }
        // A table that asks for larger work-groups than the device runs is never launched: a tuned
        // one (made for another driver's limits, or edited) gives way to the defaults, and the
        // defaults are shrunk to the limit.
        let limit = record.info.maxWorkGroupSize ?? 0
        if let table = tuned, limit > 0, table.largestWorkGroup > limit {
            RuntimeNotes.emit(
                "the tuned kernel table for \(device.id) (\(record.info.name)) asks for work-groups of "
                    + "\(table.largestWorkGroup) but the device runs at most \(limit); using the built-in defaults instead")
            tuned = nil
        }
        let builtIn = KernelParameters.defaults(for: device.profile ?? KernelProfile(for: record.info.type))
        var table = parameters ?? tuned ?? builtIn
        if parameters == nil, tuned == nil, limit > 0, table.largestWorkGroup > limit {
            RuntimeNotes.emit(
                "\(device.id) (\(record.info.name)) runs work-groups of at most \(limit); the built-in kernel table "
                    + "asks for \(table.largestWorkGroup), so its work-groups are shrunk to fit")
            table = table.fitted(toWorkGroup: limit)
        }
        try table.validate()
        self.table = Locked(table)
        self.tunedTable = parameters == nil ? tuned : nil
        self.builtInTable = builtIn.fitted(toWorkGroup: limit)

        var status: cl_int = 0
        var properties: [cl_context_properties] = [
            cl_context_properties(CL_CONTEXT_PLATFORM), cl_context_properties(Int(bitPattern: record.platform)), 0,
        ]
        var deviceID: cl_device_id? = record.deviceID
        guard let context = clCreateContext(&properties, 1, &deviceID, nil, nil, &status), status == CL_SUCCESS else {
            throw CortadoError.openCL(OpenCLFailure("clCreateContext", device: device, info: record.info, code: status))
        }
        self.context = context
        // In order; profiling (only when asked for: `--profile`, `cortado bench`) lets device-side
        // times be read from events.
        let profiling = OperationProfiling.eventProfiling
        eventProfiling = profiling
        guard let queue = clCreateCommandQueue(
            context, record.deviceID, cl_command_queue_properties(profiling ? CL_QUEUE_PROFILING_ENABLE : 0), &status),
            status == CL_SUCCESS
        else {
            clReleaseContext(context)
            throw CortadoError.openCL(OpenCLFailure("clCreateCommandQueue", device: device, info: record.info, code: status))
        }
        self.queue = queue
        guard let stagingQueue = clCreateCommandQueue(context, record.deviceID, 0, &status), status == CL_SUCCESS else {
            clReleaseCommandQueue(queue)
            clReleaseContext(context)
            throw CortadoError.openCL(OpenCLFailure("clCreateCommandQueue", device: device, info: record.info, code: status))
        }
        self.stagingQueue = stagingQueue
        if OperationProfiling.recordsOperations { launchState.withLock { $0.trace = KernelTrace() } }
        let gate = ProgramExportGate.isNeeded(onPlatform: record.info.platform) ? ProgramExportGate.shared : nil
        self.exportGate = gate
        self.programs = ProgramCache(
            context: context, deviceID: record.deviceID, device: device, info: record.info,
            storesBinaries: table.cacheProgramBinaries, exportGate: gate)

        let device = device
        let info = record.info
        let sharedContext = UncheckedSendable(context)  // OpenCL contexts are thread-safe
        self.allocator = CachingAllocator(
            device: device, maxAllocation: record.info.maxAllocationBytes ?? Int.max,
            totalMemory: record.info.globalMemoryBytes > 0 ? record.info.globalMemoryBytes : Int.max,
            allocate: { bytes in
                var status: cl_int = 0
                var memory: cl_mem?
                status = CLFaultInjection.intercept("clCreateBuffer", nil) {
                    var status: cl_int = 0
                    memory = clCreateBuffer(sharedContext.value, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status)
                    return status
                }
                try clCheck(status, OpenCLFailure("clCreateBuffer", bytes: bytes, device: device, info: info))
                guard let memory else { throw CortadoError.outOfDeviceMemory(device: device.id, bytes: bytes, detail: "") }
                return .openCL(memory)
            },
            free: { handle in
                clReleaseMemObject(handle.memory)
            })
        gate?.register(self, queue: queue)
    }

    deinit {
        clFinish(queue)
        launchState.withLock { state in
            for upload in state.pendingUploads { clReleaseEvent(upload.event) }
            state.pendingUploads = []
            state.freeStaging = [:]  // unmapped on the staging queue, which each block retains
            state.kernels.values.forEach { clReleaseKernel($0) }
        }
        allocator.emptyCache()
        exportGate?.unregister(self)
        clReleaseCommandQueue(stagingQueue)
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    /// Compilation counters of this backend's programs.
    package var compileStatistics: CompileStatistics { programs.statistics }

    /// Builds an OpenCL program from `source` through the same path as the embedded kernels (disk
    /// cache, build log on failure): for kernels tried at run time, such as tuning candidates.
    package func buildProgram(named name: String, source: String, options: String = "") throws {
        _ = try programs.program(family: name, source: source, options: options, key: "\(name) \(options) \(source.hashValue)")
    }

    // MARK: Transfers

    package func write(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, atByte: Int) throws {
        guard bytes.count > 0, let source = bytes.baseAddress else { return }
        // A non-blocking write must keep its host memory until the device has read it: stage a copy
        // (in pinned memory, which the driver moves fastest) and take the staging back once the
        // write's event completes.
        let staging = try uploadStaging(count: bytes.count)
        memcpy(staging.bytes.baseAddress!, source, bytes.count)
        try launchState.withLock { state in
            reclaimFinishedUploads(&state)
            var event: cl_event?
            let status = CLFaultInjection.intercept("clEnqueueWriteBuffer", nil) {
                clEnqueueWriteBuffer(
                    queue, buffer.handle.memory, cl_bool(CL_FALSE), atByte, bytes.count, staging.bytes.baseAddress, 0, nil, &event)
            }
            guard status == CL_SUCCESS, let event else {
                giveBack(staging, &state)
                try clCheck(status, failure("clEnqueueWriteBuffer", bytes: bytes.count))
                return
            }
            state.pendingUploads.append((event, staging))
        }
    }

    private func reclaimFinishedUploads(_ state: inout LaunchState) {
        var finished: [HostStaging] = []
        state.pendingUploads.removeAll { upload in
            let status = clInfoValue(cl_int.self) {
                clGetEventInfo(upload.event, cl_event_info(CL_EVENT_COMMAND_EXECUTION_STATUS), $0, $1, $2)
            }
            guard status == CL_COMPLETE || status < 0 else { return false }
            clReleaseEvent(upload.event)
            finished.append(upload.staging)
            return true
        }
        for staging in finished { giveBack(staging, &state) }
    }

    package func read(_ buffer: DeviceBuffer, atByte: Int, into bytes: UnsafeMutableRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        let status = CLFaultInjection.intercept("clEnqueueReadBuffer", nil) {
            clEnqueueReadBuffer(
                queue, buffer.handle.memory, cl_bool(CL_TRUE), atByte, bytes.count, bytes.baseAddress, 0, nil, nil)
        }
        try clCheck(status, failure("clEnqueueReadBuffer", bytes: bytes.count))
    }

    package func supports(_ operation: BackendOperation, _ dtype: DType) -> Bool {
        switch operation {
        case .fill, .copy: return true
        // Losses, optimizer updates (master weights) and random draws stay in float32.
        case .crossEntropy, .update, .random: return dtype == .float32
        // Quantised inference: int8 operands, float32 activations to quantise.
        case .quantizedGemm: return dtype == .int8
        case .quantizeRows: return dtype == .float32
        default: return dtype.isFloatingPoint
        }
    }

    package func fill(_ buffer: DeviceBuffer, offset: Int, count: Int, value: Double) throws {
        guard count > 0 else { return }
        var pattern = buffer.dtype.bitPattern(of: value)  // little-endian: its low bytes are the element
        let width = buffer.dtype.byteSize
        let status = clEnqueueFillBuffer(
            queue, buffer.handle.memory, &pattern, width, offset * width, count * width, 0, nil, nil)
        try clCheck(status, failure("clEnqueueFillBuffer", bytes: count * width))
    }

    package func synchronize() throws {
        try clCheck(CLFaultInjection.intercept("clFinish", nil) { clFinish(queue) }, failure("clFinish"))
        launchState.withLock { reclaimFinishedUploads(&$0) }
    }

    // MARK: Launching kernels

    /// Enqueues `kernel` from program `family`, over `global` work-items rounded up to multiples of
    /// `local` (kernels ignore the excess).
    func launch(
        _ family: KernelFamily, _ kernel: String, global: [Int], local: [Int], _ arguments: [KernelArgument]
    ) throws {
        if global.contains(0) { return }
        let options = family.options(parameters)
        let program = try programs.program(family: family.fileName, options: options)
        var globalSize = zip(global, local).map { g, l in (g + l - 1) / l * l }
        var localSize = local
        try launchState.withLock { state in
            // Keyed by the options too: one family may be built several ways (attention per head size).
            let key = family.fileName + " " + options + "." + kernel
            let handle: cl_kernel
            if let existing = state.kernels[key] {
                handle = existing
            } else {
                var status: cl_int = 0
                let created = clCreateKernel(program, kernel, &status)
                status = CLFaultInjection.intercept("clCreateKernel", kernel) { status }
                guard let created, status == CL_SUCCESS else {
                    if let created { clReleaseKernel(created) }
                    throw CortadoError.openCL(failure("clCreateKernel", kernel: kernel, code: status == 0 ? CL_INVALID_KERNEL : status))
                }
                state.kernels[key] = created
                handle = created
            }
            for (index, argument) in arguments.enumerated() {
                let status = argument.set(on: handle, at: cl_uint(index))
                try clCheck(status, failure("clSetKernelArg", kernel: "\(kernel) argument \(index)"))
            }
            if let profiler = state.profiler {
                var event: cl_event?
                try enqueue(handle, kernel, family, key: key, global: &globalSize, local: &localSize, event: &event)
                if let event { profiler.record(kernel, event) }
            } else if let trace = state.trace, let recorder = Profiler.current {
                var event: cl_event?
                let enqueued = recorder.now()
                try enqueue(handle, kernel, family, key: key, global: &globalSize, local: &localSize, event: &event)
                if let event { trace.record(kernel, event, enqueued: enqueued) }
            } else {
                try enqueue(handle, kernel, family, key: key, global: &globalSize, local: &localSize, event: nil)
            }
        }
    }

    /// Records every kernel launched during `body`, waits for them, and returns each launch's
    /// kernel name and device-side duration (from OpenCL event profiling), in launch order.
    package func profileKernels(_ body: () throws -> Void) throws -> [(kernel: String, seconds: Double)] {
        guard eventProfiling else {
            try body()
            return []
        }
        let profiler = KernelProfiler()
        launchState.withLock { $0.profiler = profiler }
        defer { launchState.withLock { $0.profiler = nil } }
        try body()
        try synchronize()
        return profiler.durations()
    }
}

extension OpenCLBackend {
    /// Starts attributing launched kernels to the operation `name` (``ProfilingBackend``).
    func beginOperation(_ name: String) {
        launchState.withLock { $0.trace?.begin(name) }
    }

    /// The kernels launched since ``beginOperation(_:)``.
    func endOperation() -> [String] {
        launchState.withLock { $0.trace?.end() ?? [] }
    }

    /// Records the device time of every traced launch that has finished into `profiler`, on the
    /// row `<device> kernels`. Called after the host waited for the queue (a read, a synchronize).
    func flushKernelTrace(into profiler: Profiler) {
        let finished = launchState.withLock { $0.trace?.takeFinished() ?? [] }
        for launch in finished {
            profiler.record(
                launch.kernel, category: "kernel", lane: "\(device.id) kernels", start: launch.start, duration: launch.duration,
                arguments: ["device": device.id, "op": launch.operation, "kernel": launch.kernel,
                            "device_us": String(format: "%.3f", launch.duration)])
        }
    }
}

/// Events of profiled launches and the device time they span.
final class KernelProfiler {
    private var events: [(kernel: String, event: cl_event)] = []

    func record(_ kernel: String, _ event: cl_event) {
        events.append((kernel, event))
    }

    /// Each launch's (end − start) in seconds; releases the events.
    func durations() -> [(kernel: String, seconds: Double)] {
        defer { events.removeAll() }
        return events.map { kernel, event in
            let start = clInfoValue(cl_ulong.self) {
                clGetEventProfilingInfo(event, cl_profiling_info(CL_PROFILING_COMMAND_START), $0, $1, $2)
            }
            let end = clInfoValue(cl_ulong.self) {
                clGetEventProfilingInfo(event, cl_profiling_info(CL_PROFILING_COMMAND_END), $0, $1, $2)
            }
            clReleaseEvent(event)
            return (kernel, end > start ? Double(end - start) / 1e9 : 0)
        }
    }
}

/// One argument of a kernel launch.
enum KernelArgument {
    case buffer(DeviceBuffer)
    case int(Int)
    case float(Float)
    case ulong(UInt64)
    /// A 64-bit signed integer (`long`).
    case long(Int)
    /// An `int8` or `int16` vector (the count must be 8 or 16).
    case ints([Int32])

    func set(on kernel: cl_kernel, at index: cl_uint) -> cl_int {
        switch self {
        case let .buffer(buffer):
            var memory: cl_mem? = buffer.handle.memory
            return clSetKernelArg(kernel, index, MemoryLayout<cl_mem>.size, &memory)
        case let .int(value):
            var v = Int32(truncatingIfNeeded: value)
            return clSetKernelArg(kernel, index, 4, &v)
        case let .float(value):
            var v = value
            return clSetKernelArg(kernel, index, 4, &v)
        case let .ulong(value):
            var v = value
            return clSetKernelArg(kernel, index, 8, &v)
        case let .long(value):
            var v = Int64(value)
            return clSetKernelArg(kernel, index, 8, &v)
        case let .ints(values):
            return values.withUnsafeBytes { clSetKernelArg(kernel, index, $0.count, $0.baseAddress) }
        }
    }
}

/// The OpenCL programs, one per `Kernels/<name>.cl` file, and the `-D` options each is built with.
/// Every file is built after the element-type prelude `Kernels/storage.cl`.
enum KernelFamily {
    case random, loss, optimizers, recurrent
    /// LayerNorm, built for one storage type.
    case normalization(DType)
    /// Softmax and log-softmax, built for one storage type.
    case softmax(DType)
    /// Int8 products and row quantisation; built with `cl_khr_integer_dot_product`'s `dot` or without.
    case quantized(integerDot: Bool)
    /// Gathers and scatters; `gather_rows` is built per storage type.
    case indexing(DType)
    /// The convolution lowering, built for its input and result types.
    case conv(DType, DType)
    /// Pooling, built for one storage type.
    case pool(DType)
    /// Matrix products: A and B of one element type (packed into float panels), C of another.
    case gemm(DType, DType)
    /// Reductions, built for one input type and one result type.
    case reduce(DType, DType)
    /// The elementwise functions, built for one storage type.
    case elementwise(DType)
    /// Copies from one element type to another (the same type: a bit copy).
    case copy(from: DType, to: DType)
    /// The fused attention kernels, built for one head size and its tiles, and one storage type.
    case attention(AttentionTiles, DType)

    var fileName: String {
        switch self {
        case .elementwise: return "elementwise"
        case .copy: return "copy"
        case .reduce: return "reduce"
        case .indexing: return "indexing"
        case .softmax: return "softmax"
        case .conv: return "conv"
        case .pool: return "pool"
        case .random: return "random"
        case .gemm: return "gemm"
        case .loss: return "loss"
        case .optimizers: return "optimizers"
        case .recurrent: return "recurrent"
        case .normalization: return "normalization"
        case .attention: return "attention"
        case .quantized: return "quantized"
        }
    }

    func options(_ parameters: KernelParameters) -> String {
        let rows = "-DSTRIDED_ROWS=\(parameters.stridedMapping == .rowPerWorkItem ? 1 : 0)"
        // CPU-type devices move 16-bit rows as whole unaligned vectors (see storage.cl).
        let unaligned = "-DUNALIGNED_VECTORS=\(parameters.stridedMapping == .rowPerWorkItem ? 1 : 0)"
        switch self {
        case let .elementwise(storage):
            return "\(rows) -DSTORAGE=\(storage.kernelCode) -DPER_ITEM=\(parameters.contiguousElementsPerItem(storage)) "
                + "-DVECTOR_WIDTH=\(parameters.contiguousVectorWidth(storage))"
        case let .copy(source, target):
            // Same-width copies share one raw build.
            let (s, t) = source == target ? (DType.bitsCode(source.byteSize), DType.bitsCode(source.byteSize)) : (source.kernelCode, target.kernelCode)
            return "\(rows) -DSOURCE=\(s) -DTARGET=\(t)"
        case let .conv(input, output):
            return "-DROWS_PER_ITEM=\(parameters.stridedMapping == .rowPerWorkItem ? 1 : 0) "
                + "-DSTORAGE=\(input.kernelCode) -DOUT_STORAGE=\(output.kernelCode)"
        case let .pool(storage):
            return "\(unaligned) -DSTORAGE=\(storage.kernelCode)"
        case let .indexing(storage):
            return "-DSTORAGE=\(storage.kernelCode)"
        case let .softmax(storage):
            return "-DSTORAGE=\(storage.kernelCode) -DROW_WG=\(parameters.normalization.workGroup) "
                + "-DROW_VW=\(parameters.contiguousVectorWidth(storage))"
        case let .reduce(input, output):
            return "-DREDUCE_WG=\(parameters.reductionWorkGroup) -DCOLUMN_BLOCK=\(parameters.columnBlock) "
                + "-DSTORAGE=\(input.kernelCode) -DOUT_STORAGE=\(output.kernelCode)"
        case let .normalization(storage):
            return "\(unaligned) -DSTORAGE=\(storage.kernelCode) -DNORM_WG=\(parameters.normalization.workGroup) "
                + "-DNORM_VW=\(parameters.normalization.vectorWidth)"
        case let .attention(tiles, storage):
            return tiles.options + " -DSTORAGE=\(storage.kernelCode)"
        case let .quantized(integerDot):
            return integerDot ? "-DINT_DOT=1" : ""
        case .recurrent:
            return "-DUNITS=\(parameters.recurrent.unitsPerItem) -DROWS=\(parameters.recurrent.rowsPerItem)"
        case let .gemm(operands, result):
            let g = parameters.gemm
            return "-DTILE_M=\(g.tileM) -DTILE_N=\(g.tileN) -DTILE_K=\(g.tileK) -DTHREADS_M=\(g.threadsM) "
                + "-DTHREADS_N=\(g.threadsN) -DVECTOR_WIDTH=\(g.vectorWidth) -DGROUP_M=\(g.groupM) "
                + "-DLOCAL_TILED=\(g.algorithm == .localTiled ? 1 : 0) \(unaligned) "
                + "-DSTORAGE=\(operands.kernelCode) -DOUT_STORAGE=\(result.kernelCode)"
        default:
            return ""
        }
    }
}

extension DType {
    /// The element type's number in the kernels (`Kernels/storage.cl`): its position in ``DType/allCases``.
    var kernelCode: Int { DType.allCases.firstIndex(of: self)! }

    /// The number of a type of `width` bytes, for raw copies (the storage prelude's bit types).
    static func bitsCode(_ width: Int) -> Int {
        switch width {
        case 1: return DType.uint8.kernelCode
        case 2: return DType.bfloat16.kernelCode
        case 4: return DType.int32.kernelCode
        default: return DType.int64.kernelCode
        }
    }
}
