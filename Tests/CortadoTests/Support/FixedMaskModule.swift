import Cortado
import CortadoNN

/// A module that takes a padding mask, applied with a fixed one, so that the gradient checker sees a
/// plain `Module` of one input.
final class FixedMaskModule: Module {
    let name: String
    let module: any Module
    let mask: Tensor
    let apply: (Tensor, Tensor) throws -> Tensor
    var isTraining = false

    /// `module` (its parameters named under `name`), called as `apply(module, x, mask)`.
    init<M: Module>(_ name: String, _ module: M, mask: Tensor, apply: @escaping (M, Tensor, Tensor) throws -> Tensor) {
        (self.name, self.module, self.mask) = (name, module, mask)
        self.apply = { try apply(module, $0, $1) }
    }

    var children: [(name: String, module: any Module)] { [(name, module)] }
    func callAsFunction(_ x: Tensor) throws -> Tensor { try apply(x, mask) }
}
