extension KernelParameters {
    /// The LayerNorm kernels (`Kernels/normalization.cl`). A row of `width` elements is shared by
    /// the largest power of two of work-items not above ``itemsPerRow``, ``workGroup`` or the
    /// row's vectors (`width / vectorWidth`), so a work-group holds one long row or several short
    /// ones; each work-item reads ``vectorWidth`` floats at a time. The weight and bias gradients
    /// are summed per block of ``rowsPerBlock`` rows, then over the blocks (a fixed order: no
    /// atomics).
    public struct Normalization: Sendable, Codable, Equatable {
        /// Work-items per work-group (a power of two).
        public var workGroup: Int
        /// The most work-items sharing one row (a power of two): many on GPUs, 1 on CPU-type
        /// devices, where a work-item looping over a whole row vectorises best.
        public var itemsPerRow: Int
        /// Floats per load: 1, 2, 4, 8 or 16.
        public var vectorWidth: Int
        /// Rows per partial sum of the weight and bias gradients.
        public var rowsPerBlock: Int

        /// Creates LayerNorm parameters.
        public init(workGroup: Int, itemsPerRow: Int, vectorWidth: Int, rowsPerBlock: Int) {
            self.workGroup = workGroup
            self.itemsPerRow = itemsPerRow
            self.vectorWidth = vectorWidth
            self.rowsPerBlock = rowsPerBlock
        }

        /// Rows shared by up to a whole work-group of the given size, float4 loads, blocks of 32
        /// rows: right for any device (tables stored before these parameters existed decode to it,
        /// with their reduction work-group).
        public static func portable(workGroup: Int) -> Normalization {
            Normalization(workGroup: workGroup, itemsPerRow: workGroup, vectorWidth: 4, rowsPerBlock: 32)
        }

        /// Checks that the parameters describe kernels that can be built and launched.
        public func validate() throws {
            func powerOfTwo(_ n: Int) -> Bool { n > 0 && n & (n - 1) == 0 }
            guard powerOfTwo(workGroup), workGroup <= 1024, powerOfTwo(itemsPerRow), itemsPerRow <= 1024,
                  [1, 2, 4, 8, 16].contains(vectorWidth), rowsPerBlock > 0, rowsPerBlock <= 1 << 16
            else {
                throw CortadoError.invalidArgument(
                    "LayerNorm needs power-of-two work-groups and items per row, a vector width of 1 to 16 and positive row blocks: \(self)")
            }
        }
    }

    /// The fused attention kernels (`Kernels/attention.cl`), built once per head size (a
    /// compile-time constant, so each work-item's accumulators have a fixed length). Forward: a
    /// work-group of ``queryTile`` work-items, one query each, walks the keys in tiles of
    /// ``keyTile`` held in local memory. Backward: work-groups of ``backwardTile`` queries (for
    /// `dq`) or keys (for `dk`, `dv`) walk the other side in tiles of as many rows. Scores are
    /// computed ``chunk`` keys at a time as one vector, accumulators ``vectorWidth`` head elements at
    /// a time. Tiles shrink (halving) until they fit the device's local memory (at most 48 KiB).
    public struct Attention: Sendable, Codable, Equatable {
        /// Queries per forward work-group (its size).
        public var queryTile: Int
        /// Keys per local-memory tile of the forward pass (rounded up to a multiple of ``chunk``).
        public var keyTile: Int
        /// Rows per backward work-group, and per streamed tile (rounded up to a multiple of ``chunk``).
        public var backwardTile: Int
        /// Scores per vector: 8 or 16.
        public var chunk: Int
        /// Float vector width of the accumulators along the head (1, 2, 4, 8 or 16; narrowed to a
        /// divisor of the head size).
        public var vectorWidth: Int
        /// The largest head size the kernels are built for; larger heads are refused with an error.
        public var maxHeadSize: Int

        /// Creates attention parameters.
        public init(queryTile: Int, keyTile: Int, backwardTile: Int, chunk: Int, vectorWidth: Int, maxHeadSize: Int) {
            self.queryTile = queryTile
            self.keyTile = keyTile
            self.backwardTile = backwardTile
            self.chunk = chunk
            self.vectorWidth = vectorWidth
            self.maxHeadSize = maxHeadSize
        }

        /// Tiles of 32, chunks of 8, float4 accumulators and heads up to 128: right for any device
        /// (tables stored before these parameters existed decode to it).
        public static let portable = Attention(
            queryTile: 32, keyTile: 32, backwardTile: 32, chunk: 8, vectorWidth: 4, maxHeadSize: 128)

        /// Checks that the parameters describe kernels that can be built.
        public func validate() throws {
            guard queryTile > 0, queryTile <= 1024, keyTile > 0, keyTile <= 1024, backwardTile > 0, backwardTile <= 1024,
                  [8, 16].contains(chunk), [1, 2, 4, 8, 16].contains(vectorWidth), maxHeadSize > 0, maxHeadSize <= 4096
            else {
                throw CortadoError.invalidArgument(
                    "attention needs positive tiles and head size, a chunk of 8 or 16 and a vector width of 1 to 16: \(self)")
            }
        }
    }
}
