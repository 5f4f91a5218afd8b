/// Which built-in launch-parameter table a device uses: chosen by device type, or forced (tests run
/// the GPU kernels on a CPU OpenCL device this way).
public enum KernelProfile: String, Sendable, Codable, CaseIterable {
    /// CPU-type OpenCL devices (PoCL, Intel CPU runtime): register-blocked kernels, no local memory.
    case cpu
    /// GPUs and accelerators: work-groups that tile through local memory.
    case gpu

    /// The profile for a device type.
    public init(for type: DeviceType) {
        self = type == .cpu ? .cpu : .gpu
    }
}

/// Launch parameters of the OpenCL kernels for one device: one table per device type, which a
/// tuner may overwrite per device and driver.
public struct KernelParameters: Sendable, Codable, Equatable {
    /// How GEMM is computed.
    public enum GemmAlgorithm: String, Sendable, Codable {
        /// Each work-item keeps an `mr × nr` block of C in registers and streams packed panels.
        case registerBlocked
        /// Each work-group stages `tileM × tileK` and `tileK × tileN` tiles in local memory; each
        /// work-item computes `tileM/threadsM × tileN/threadsN` entries of C.
        case localTiled
    }

    /// GEMM parameters.
    public struct Gemm: Sendable, Codable, Equatable {
        /// The algorithm.
        public var algorithm: GemmAlgorithm
        /// Rows of C per work-item (`registerBlocked`) or per work-group (`localTiled`).
        public var tileM: Int
        /// Columns of C per work-item or per work-group (a multiple of the vector width).
        public var tileN: Int
        /// Depth of a local-memory slice (`localTiled` only).
        public var tileK: Int
        /// Work-items along M in a `localTiled` work-group (`tileM` must be a multiple).
        public var threadsM: Int
        /// Work-items along N in a `localTiled` work-group (`tileN` must be a multiple).
        public var threadsN: Int
        /// Float vector width of the `registerBlocked` accumulators (1, 2, 4, 8 or 16).
        public var vectorWidth: Int
        /// Row-tiles that share a column panel before the walk moves on (`registerBlocked`).
        public var groupM: Int

        /// Creates GEMM parameters.
        public init(
            algorithm: GemmAlgorithm, tileM: Int, tileN: Int, tileK: Int, threadsM: Int = 1, threadsN: Int = 1,
            vectorWidth: Int = 1, groupM: Int = 1
        ) {
            self.algorithm = algorithm
            self.tileM = tileM
            self.tileN = tileN
            self.tileK = tileK
            self.threadsM = threadsM
            self.threadsN = threadsN
            self.vectorWidth = vectorWidth
            self.groupM = groupM
        }

        /// Checks that the parameters describe a kernel that can be built.
        public func validate() throws {
            guard tileM > 0, tileN > 0, tileK > 0, groupM > 0, [1, 2, 4, 8, 16].contains(vectorWidth),
                  tileN % vectorWidth == 0
            else {
                throw CortadoError.invalidArgument("GEMM tiles must be positive and tileN a multiple of the vector width: \(self)")
            }
            guard tileM <= 256, tileN <= 256, tileK <= 256, groupM <= 4096 else {
                throw CortadoError.invalidArgument("GEMM tiles of more than 256 (or groupM above 4096) are implausible: \(self)")
            }
            if algorithm == .localTiled {
                guard threadsM > 0, threadsN > 0, threadsM * threadsN <= 1024, tileM % threadsM == 0, tileN % threadsN == 0 else {
                    throw CortadoError.invalidArgument("local-tiled GEMM needs tiles divisible by the work-group: \(self)")
                }
            }
        }
    }

    /// How strided elementwise kernels map work-items to elements.
    public enum StridedMapping: String, Sendable, Codable {
        /// One element per work-item: neighbouring work-items touch neighbouring addresses (GPUs).
        case elementPerWorkItem
        /// One row of the innermost dimension per work-item, looped so the compiler can vectorise
        /// it (CPU-type devices, where a work-group runs as a loop on one core).
        case rowPerWorkItem
    }

    /// GEMM.
    public var gemm: Gemm
    /// Strided elementwise kernels' work mapping (with `.rowPerWorkItem`, the 2×2 max pool also
    /// takes a row of outputs per work-item, in float vectors).
    public var stridedMapping: StridedMapping
    /// Work-group size of elementwise kernels.
    public var elementwiseWorkGroup: Int
    /// Work-group size of reductions, softmax and other row-wise kernels (a power of two).
    public var reductionWorkGroup: Int
    /// Neighbouring columns one work-item reduces (1: one column per work-item, coalesced on GPUs;
    /// more: a vectorisable block per work-item on CPU-type devices).
    public var columnBlock: Int
    /// The one-kernel recurrent steps (`Kernels/recurrent.cl`): each work-item computes
    /// `unitsPerItem` neighbouring units (a float vector) of `rowsPerItem` batch rows, which share
    /// each load of `W_hh`. Layers wider than `maxHidden` units, or whose width is not a multiple of
    /// `unitsPerItem`, run one GEMM plus one gate kernel per step instead.
    public struct Recurrent: Sendable, Codable, Equatable {
        /// Units per work-item: 1, 2, 4, 8 or 16.
        public var unitsPerItem: Int
        /// Batch rows per work-item.
        public var rowsPerItem: Int
        /// The widest layer run with one kernel per step.
        public var maxHidden: Int

        /// Creates recurrent-step parameters.
        public init(unitsPerItem: Int, rowsPerItem: Int, maxHidden: Int) {
            self.unitsPerItem = unitsPerItem
            self.rowsPerItem = rowsPerItem
            self.maxHidden = maxHidden
        }

        /// One unit and one row per work-item, up to 256 units: right for any device (tables
        /// stored before these parameters existed decode to it).
        public static let scalar = Recurrent(unitsPerItem: 1, rowsPerItem: 1, maxHidden: 256)
    }

    /// The recurrent-step parameters.
    public var recurrent: Recurrent
    /// The LayerNorm kernels' parameters.
    public var normalization: Normalization
    /// The fused attention kernels' parameters.
    public var attention: Attention
    /// Whether to keep compiled program binaries in Cortado's disk cache. GPU drivers produce the
    /// binary while building, so exporting it is free. PoCL compiles every kernel of a program again
    /// to export one (30 s for Cortado's programs on a 2-core machine, against 2 s for the kernels
    /// a run uses), and keeps its own persistent kernel cache, so CPU-type devices skip it.
    public var cacheProgramBinaries: Bool

    /// Creates a parameter table.
    public init(
        gemm: Gemm, stridedMapping: StridedMapping, elementwiseWorkGroup: Int, reductionWorkGroup: Int, columnBlock: Int,
        recurrent: Recurrent = .scalar, normalization: Normalization? = nil, attention: Attention = .portable,
        cacheProgramBinaries: Bool
    ) {
        self.recurrent = recurrent
        self.normalization = normalization ?? .portable(workGroup: reductionWorkGroup)
        self.attention = attention
        self.cacheProgramBinaries = cacheProgramBinaries
        self.gemm = gemm
        self.stridedMapping = stridedMapping
        self.elementwiseWorkGroup = elementwiseWorkGroup
        self.reductionWorkGroup = reductionWorkGroup
        self.columnBlock = columnBlock
    }

    private enum CodingKeys: String, CodingKey {
        case gemm, stridedMapping, elementwiseWorkGroup, reductionWorkGroup, columnBlock, recurrent, normalization
        case attention, cacheProgramBinaries
    }

    /// Decodes a stored table; one stored before ``recurrent`` existed gets ``Recurrent/scalar``,
    /// one stored before ``normalization`` ``Normalization/portable(workGroup:)`` with its reduction
    /// work-group, one stored before
    /// ``attention`` ``Attention/portable``.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        gemm = try container.decode(Gemm.self, forKey: .gemm)
        stridedMapping = try container.decode(StridedMapping.self, forKey: .stridedMapping)
        elementwiseWorkGroup = try container.decode(Int.self, forKey: .elementwiseWorkGroup)
        reductionWorkGroup = try container.decode(Int.self, forKey: .reductionWorkGroup)
        columnBlock = try container.decode(Int.self, forKey: .columnBlock)
        recurrent = try container.decodeIfPresent(Recurrent.self, forKey: .recurrent) ?? .scalar
        normalization = try container.decodeIfPresent(Normalization.self, forKey: .normalization)
            ?? .portable(workGroup: reductionWorkGroup)
        attention = try container.decodeIfPresent(Attention.self, forKey: .attention) ?? .portable
        cacheProgramBinaries = try container.decode(Bool.self, forKey: .cacheProgramBinaries)
    }

    /// Checks every field: GEMM, LayerNorm and attention parameters (their own `validate()`), and
    /// work-group sizes, column blocks and recurrent-step parameters that are positive, within
    /// what any device accepts (work-groups up to 1024) and powers of two where the kernels need
    /// it, so that a damaged or hand-edited table never divides by zero or launches an impossible
    /// kernel.
    /// - Throws: ``CortadoError/invalidArgument(_:)`` naming the field.
    public func validate() throws {
        func powerOfTwo(_ n: Int) -> Bool { n > 0 && n & (n - 1) == 0 }
        try gemm.validate()
        try normalization.validate()
        try attention.validate()
        guard elementwiseWorkGroup > 0, elementwiseWorkGroup <= 1024 else {
            throw CortadoError.invalidArgument("elementwiseWorkGroup \(elementwiseWorkGroup) must be from 1 to 1024")
        }
        guard powerOfTwo(reductionWorkGroup), reductionWorkGroup <= 1024 else {
            throw CortadoError.invalidArgument("reductionWorkGroup \(reductionWorkGroup) must be a power of two up to 1024")
        }
        guard columnBlock > 0, columnBlock <= 1024 else {
            throw CortadoError.invalidArgument("columnBlock \(columnBlock) must be from 1 to 1024")
        }
        guard [1, 2, 4, 8, 16].contains(recurrent.unitsPerItem), recurrent.rowsPerItem > 0, recurrent.rowsPerItem <= 256,
              recurrent.maxHidden >= 0, recurrent.maxHidden <= 1 << 16
        else {
            throw CortadoError.invalidArgument(
                "recurrent parameters need unitsPerItem of 1 to 16, rowsPerItem from 1 to 256 and maxHidden up to 65536: \(recurrent)")
        }
    }

    /// The built-in table for a profile.
    public static func defaults(for profile: KernelProfile) -> KernelParameters {
        switch profile {
        case .cpu:
            return KernelParameters(
                // 12 × 32 in float16: 24 zmm accumulators; ~200 GFLOPS with packing on a 2-core Zen 4 (PoCL).
                gemm: Gemm(algorithm: .registerBlocked, tileM: 12, tileN: 32, tileK: 1, vectorWidth: 16, groupM: 16),
                stridedMapping: .rowPerWorkItem,
                elementwiseWorkGroup: 64,
                reductionWorkGroup: 16,
                columnBlock: 32,
                // float16 of units, one row: on PoCL here 2 or 4 rows per work-item measured slower.
                recurrent: Recurrent(unitsPerItem: 16, rowsPerItem: 1, maxHidden: 256),
                // One row per work-item, float16 loads: 6× faster than rows spread over 16 items here (PoCL).
                normalization: Normalization(workGroup: 16, itemsPerRow: 1, vectorWidth: 16, rowsPerBlock: 32),
                attention: Attention(queryTile: 64, keyTile: 64, backwardTile: 64, chunk: 16, vectorWidth: 16, maxHeadSize: 128),
                cacheProgramBinaries: false)
        case .gpu:
            return KernelParameters(
                gemm: Gemm(algorithm: .localTiled, tileM: 64, tileN: 64, tileK: 16, threadsM: 16, threadsN: 16),
                stridedMapping: .elementPerWorkItem,
                elementwiseWorkGroup: 256,
                reductionWorkGroup: 256,
                columnBlock: 1,
                recurrent: .scalar,
                normalization: Normalization(workGroup: 128, itemsPerRow: 128, vectorWidth: 4, rowsPerBlock: 32),
                attention: Attention(queryTile: 64, keyTile: 64, backwardTile: 32, chunk: 8, vectorWidth: 4, maxHeadSize: 128),
                cacheProgramBinaries: true)
        }
    }
}

extension KernelParameters {
    /// The elements each work-item of a contiguous elementwise kernel takes: 4 for 16-bit types on
    /// GPUs (one 2-byte element per work-item leaves the memory system underused), else 1.
    package func contiguousElementsPerItem(_ storage: DType) -> Int {
        stridedMapping == .rowPerWorkItem || storage.byteSize != 2 ? 1 : 4
    }

    /// The elements each work-item of a contiguous elementwise kernel moves with one aligned vector
    /// access when every operand's offset is a multiple of it: 16 bytes of the storage type on GPUs
    /// (4 float32, 8 16-bit values), 1 (no vector kernel) on CPU-type devices, whose row kernels
    /// the compiler vectorises already.
    package func contiguousVectorWidth(_ storage: DType) -> Int {
        guard stridedMapping != .rowPerWorkItem, storage.isFloatingPoint else { return 1 }
        return 16 / storage.byteSize
    }
}
