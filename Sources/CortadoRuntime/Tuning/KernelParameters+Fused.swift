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
            guard powerOfTwo(workGroup), powerOfTwo(itemsPerRow), [1, 2, 4, 8, 16].contains(vectorWidth), rowsPerBlock > 0
            else {
                throw CortadoError.invalidArgument(
                    "LayerNorm needs power-of-two work-groups and items per row, a vector width of 1 to 16 and positive row blocks: \(self)")
            }
        }
    }
}
