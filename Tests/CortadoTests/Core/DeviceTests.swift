import Cortado
import Testing

@Suite("Device selection")
struct DeviceTests {
    let hasGPU = Device.all.contains { $0.type == .gpu }

    @Test("device strings resolve to canonical devices")
    func parsing() throws {
        #expect(try Device("cpu") == .cpu)
        #expect(try Device(" CPU ") == .cpu)
        #expect(try Device("opencl").id == "opencl:0")
        #expect(try Device("opencl:0").kind == .opencl)
        #expect(try Device.opencl(0).id == "opencl:0")
    }

    @Test("auto picks the first OpenCL GPU, else the CPU, and says which")
    func auto() throws {
        let resolution = try Device.resolve("auto")
        if hasGPU {
            #expect(resolution.device.kind == .opencl)
        } else {
            #expect(resolution.device == .cpu)
            #expect(resolution.notice?.contains("no OpenCL GPU") == true)
        }
    }

    @Test("unknown or absent devices are errors that list the devices that exist",
          arguments: ["tpu", "opencl:99", "gpu:7", "gpu:x", "cuda", ""])
    func unknownDevices(spec: String) throws {
        do {
            _ = try Device(spec)
            Issue.record("'\(spec)' resolved")
        } catch let error as CortadoError {
            let message = error.description
            #expect(message.contains("unknown device"))
            #expect(message.contains("cpu"))
            #expect(message.contains("opencl:0"))
        }
    }

    @Test("gpu is an error on a machine without an OpenCL GPU")
    func gpuWithoutGPU() throws {
        if hasGPU {
            #expect(try Device("gpu").kind == .opencl)
        } else {
            #expect(throws: CortadoError.self) { try Device("gpu") }
        }
    }

    @Test("withDefaultDevice scopes where new tensors go")
    func scopedDefault() throws {
        let openCL = try Device("opencl:0")
        try withDefaultDevice(openCL) { () throws in
            #expect(try Tensor([1]).device == openCL)
            let inner = try withDefaultDevice(.cpu) { () throws -> Device in try Tensor.zeros([2]).device }
            #expect(inner == .cpu)
            #expect(try Tensor.ones([2]).device == openCL)
            // An explicit device wins over the scope.
            #expect(try Tensor([1], device: .cpu).device == .cpu)
        }
    }

    @Test("every device is described")
    func descriptions() throws {
        let all = Device.all
        #expect(all.first?.id == "cpu")
        #expect((all.first?.blasThreads ?? 0) >= 1)
        let openCL = try #require(all.first { $0.kind == .opencl })
        #expect(!openCL.name.isEmpty && !openCL.driverVersion.isEmpty)
        #expect(openCL.computeUnits > 0 && openCL.globalMemoryBytes > 0 && (openCL.maxWorkGroupSize ?? 0) > 0)
        #expect(openCL.openCLCVersion?.contains("OpenCL C") == true)
    }
}
