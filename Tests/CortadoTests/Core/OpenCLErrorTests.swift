import Cortado
import Testing

/// A fresh backend of the first OpenCL device, so that injected faults and the kernels whose
/// work-group size was refused stay out of other tests' way.
private func freshOpenCL(_ instance: Int) -> Device {
    Device(kind: .opencl, index: 0, profile: nil, instance: instance)
}

/// The error thrown by `body`, or an issue when it throws none.
private func thrownError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> CortadoError? {
    do {
        try body()
        Issue.record("no error was thrown", sourceLocation: sourceLocation)
    } catch let error as CortadoError {
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite("OpenCL errors say what to do")
struct OpenCLErrorTests {
    @Test("fault specifications parse; a malformed one is an error naming it")
    func parsesFaults() throws {
        let faults = try CLFaultInjection.parse("clEnqueueNDRangeKernel@softmax_forward:-54*2, clCreateBuffer:CL_MEM_OBJECT_ALLOCATION_FAILURE,clEnqueueNDRangeKernel@x:skip")
        #expect(faults == [
            .init(call: "clEnqueueNDRangeKernel", name: "softmax_forward", effect: .status(-54), times: 2),
            .init(call: "clCreateBuffer", name: nil, effect: .status(-4), times: nil),
            .init(call: "clEnqueueNDRangeKernel", name: "x", effect: .skip, times: nil),
        ])
        for bad in ["clFinish", "clFinish:5", "clFinish:CL_NOTHING", "clFinish:-2*0", "finish:-2"] {
            #expect(throws: CortadoError.self, "\(bad)") { try CLFaultInjection.parse(bad) }
        }
    }

    @Test("an allocation the device refuses: out of device memory, with the call, the limits and the advice")
    func allocationFailure() throws {
        let device = freshOpenCL(170)
        let error = thrownError {
            try CLFaultInjection.withFaults("clCreateBuffer:-4") { _ = try Tensor.zeros([1000], device: device).toArray() }
        }
        guard case let .outOfDeviceMemory(_, bytes, detail)? = error else {
            Issue.record("expected out of device memory, got \(String(describing: error))")
            return
        }
        #expect(bytes >= 4000)
        #expect(detail.contains("clCreateBuffer") && detail.contains("CL_MEM_OBJECT_ALLOCATION_FAILURE"), "\(detail)")
        #expect(detail.contains("max allocation"), "the device's limits: \(detail)")
        let message = error?.description ?? ""
        #expect(message.contains("smaller batch") && message.contains("--precision bf16"), "\(message)")
    }

    @Test("a launch out of resources names the kernel and launch size, and advises a smaller batch or bf16")
    func outOfResources() throws {
        let device = freshOpenCL(171)
        let a = try Tensor(Array(repeating: 1, count: 100), device: device)
        let error = thrownError {
            try CLFaultInjection.withFaults("clEnqueueNDRangeKernel@binary_add_contiguous:CL_OUT_OF_RESOURCES") {
                _ = try (a + a).toArray()
            }
        }
        guard case let .openCL(failure)? = error else {
            Issue.record("expected an OpenCL failure, got \(String(describing: error))")
            return
        }
        #expect(failure.code == -5 && failure.call == "clEnqueueNDRangeKernel" && failure.kernel == "binary_add_contiguous")
        #expect(failure.globalSize != nil && failure.localSize != nil)
        let driver = try device.info.driverVersion
        #expect(failure.limits.contains("max work-group") && failure.driver == driver)
        let message = failure.description
        #expect(message.contains("CL_OUT_OF_RESOURCES") && message.contains("binary_add_contiguous") && message.contains("global ["))
        #expect(message.contains("smaller batch") && message.contains("--precision bf16"), "\(message)")
    }

    @Test("a refused work-group size falls back to the driver's choice; the results equal the un-injected run")
    func workGroupFallback() throws {
        let device = freshOpenCL(172)
        let x = try Tensor((0..<297).map { Float($0 % 17) * 0.3 - 2 }, shape: [9, 33], device: device)
        let expected = try x.softmax(axis: 0).toArray()
        let fallbackDevice = freshOpenCL(173)
        let y = try x.to(fallbackDevice)
        let backend = try #require(try DeviceRegistry.shared.backend(for: fallbackDevice).unwrapped as? OpenCLBackend)
        // Along axis 0 (a strided layout: softmax_forward, whose work-group size the driver may
        // choose), on a device that never runs the kernel's work-group size, over two launches.
        let injected = try CLFaultInjection.withFaults("clEnqueueNDRangeKernel@softmax_forward:CL_INVALID_WORK_GROUP_SIZE") {
            let first = try y.softmax(axis: 0).toArray()
            #expect(backend.kernelsWithDriverChosenWorkGroups.contains { $0.hasSuffix(".softmax_forward") })
            return [first, try y.softmax(axis: 0).toArray()]
        }
        #expect(injected == [expected, expected])
        #expect(backend.kernelsWithDriverChosenWorkGroups.count == 1)
    }

    @Test("a refused work-group size that cannot shrink (the one-item register-blocked GEMM) is an error with the device's limits and advice")
    func fixedWorkGroupRefused() throws {
        let device = freshOpenCL(174)
        let a = try Tensor((0..<35).map { Float($0) }, shape: [5, 7], device: device)
        let error = thrownError {
            // -55 (CL_INVALID_WORK_ITEM_SIZE): a launch with the size left to the driver, which this
            // kernel must not get, would end with another status or none.
            try CLFaultInjection.withFaults("clEnqueueNDRangeKernel@gemm_register_blocked:-55") {
                _ = try a.matmul(a.transposed()).toArray()
            }
        }
        guard case let .openCL(failure)? = error else {
            Issue.record("expected an OpenCL failure, got \(String(describing: error))")
            return
        }
        #expect(failure.kernel == "gemm_register_blocked" && failure.code == -55 && failure.localSize != nil, "\(failure)")
        let maxWorkGroup = try #require(try device.info.maxWorkGroupSize)
        #expect(failure.limits.contains("max work-group \(maxWorkGroup)"), "\(failure.limits)")
        #expect(failure.limits.contains("this kernel: at most") && failure.limits.contains("built for work-groups of"),
                "\(failure.limits)")
        #expect(failure.description.contains("CL_INVALID_WORK_ITEM_SIZE") && failure.description.contains("cortado tune"),
                "\(failure.description)")
    }

    @Test("a program the driver cannot build names the device and driver and advises updating it")
    func buildFailure() throws {
        let device = freshOpenCL(175)
        let error = thrownError {
            try CLFaultInjection.withFaults("clBuildProgram@elementwise:-11") {
                _ = try (Tensor([1, 2, 3], device: device) * 2).toArray()
            }
        }
        guard case let .kernelBuild(program, deviceName, log)? = error else {
            Issue.record("expected a build failure, got \(String(describing: error))")
            return
        }
        #expect(program == "elementwise" && log.contains("CL_BUILD_PROGRAM_FAILURE"), "\(log)")
        let driver = try device.info.driverVersion
        #expect(deviceName.contains("opencl:0") && deviceName.contains(driver), "\(deviceName)")
        #expect(error?.description.contains("update the OpenCL driver") == true)
    }

    @Test("a lost device says so and what to do", arguments: ["clFinish:CL_DEVICE_NOT_AVAILABLE", "clEnqueueReadBuffer:-36"])
    func lostDevice(_ fault: String) throws {
        let device = freshOpenCL(176)
        let a = try Tensor([1, 2, 3], device: device)
        let error = thrownError {
            try CLFaultInjection.withFaults(fault) {
                try device.synchronize()
                _ = try (a + 1).toArray()
            }
        }
        guard case let .openCL(failure)? = error else {
            Issue.record("expected an OpenCL failure, got \(String(describing: error))")
            return
        }
        #expect(failure.description.contains("device was lost") && failure.description.contains("cortado devices"),
                "\(failure.description)")
    }

    @Test("a tuned table asking for more than the device's work-group limit is ignored for the defaults")
    func tunedTableBeyondLimits() throws {
        let directory = try TemporaryDirectory()
        let store = TunedParameterStore(directory: directory.url)
        let record = try DeviceRegistry.shared.record(for: TestDevices.openCL)
        var tuned = KernelParameters.defaults(for: .cpu)
        tuned.elementwiseWorkGroup = 512
        try store.save(TunedParameterStore.Entry(
            device: record.info.name, driver: record.info.driverVersion, platform: record.info.platform ?? "",
            parameters: tuned, defaultScore: 1, tunedScore: 2, date: "2026-12-03T00:00:00Z"), for: record.info)
        var small = record.info
        small.maxWorkGroupSize = 128
        let limited = try OpenCLBackend(record: record.describing(small), device: freshOpenCL(177), store: store)
        #expect(limited.parameters == KernelParameters.defaults(for: KernelProfile(for: record.info.type)))
        // Within the limit, the same table is used.
        let roomy = try OpenCLBackend(record: record, device: freshOpenCL(178), store: store)
        #expect(roomy.parameters == tuned)
    }

    @Test("built-in tables are shrunk to a small work-group limit, and still compute correctly")
    func defaultsFitted() throws {
        let record = try DeviceRegistry.shared.record(for: TestDevices.openCL)
        var small = record.info
        small.maxWorkGroupSize = 32
        let backend = try OpenCLBackend(
            record: record.describing(small), device: Device(kind: .opencl, index: 0, profile: .gpu, instance: 179))
        #expect(KernelParameters.defaults(for: .gpu).largestWorkGroup > 32)
        #expect(backend.parameters.largestWorkGroup <= 32)
        try backend.parameters.validate()
        #expect(try KernelTuner.verify(backend))
    }
}
