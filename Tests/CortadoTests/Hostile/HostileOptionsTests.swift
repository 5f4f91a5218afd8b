import CortadoTraining
import Foundation
import Testing

/// Flags a careless user or an attacker may give: each is refused with a message naming the flag,
/// never a trap (Swift's conversion of inf or NaN to an integer, an allocation that overflows).
@Suite("Hostile input: flags")
struct HostileOptionsTests {
    @Test("non-finite and out-of-range floating flags are refused by the library's validation, naming the flag")
    func nonFiniteFlags() throws {
        func refused(_ edit: (inout TrainingOptions) -> Void, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            var options = TrainingOptions()
            edit(&options)
            expectError(mentioning: [fragment], sourceLocation: sourceLocation) { try options.validate() }
        }
        refused({ $0.warmup = .infinity }, "--warmup must be a finite number, not inf")
        refused({ $0.warmup = .nan }, "--warmup must be a finite number, not nan")
        refused({ $0.warmup = 1e300 }, "--warmup must be at most")
        refused({ $0.weightDecay = .nan }, "--weight-decay must be a finite number, not nan")
        refused({ $0.weightDecay = -.infinity }, "--weight-decay must be a finite number")
        refused({ $0.momentum = .nan }, "--momentum must be a finite number")
        refused({ $0.learningRate = .infinity }, "--lr must be a positive finite number")
        refused({ $0.batchSize = 1_000_000_000 }, "--batch-size must be at most 1048576, not 1000000000")
        refused({ $0.maxLength = 1_000_000_000 }, "--max-len must be at most 65536, not 1000000000")
        refused({ $0.epochs = Int.max }, "--epochs must be at most")
        refused({ $0.stepEpochs = Int.max }, "--step-epochs must be at most")
        refused({ $0.vocabularySize = Int.max }, "--vocab-size must be at most")
        refused({ $0.epochs = -3 }, "--epochs must be at least 1, not -3")
        var fine = TrainingOptions()
        fine.warmup = 0.1
        fine.weightDecay = 0.01
        try fine.validate()
    }

    @Test("the command line reports each hostile flag value by name and exits 64, never trapping",
          arguments: [
              (["--warmup", "inf"], "--warmup must be a finite number, not inf"),
              (["--weight-decay", "nan"], "--weight-decay must be a finite number, not nan"),
              (["--epochs", "-3"], "--epochs must be at least 1, not -3"),
              (["--batch-size", "-1"], "--batch-size must be at least 1, not -1"),
              (["--lr", "-0.5"], "--lr must be a positive finite number, not -0.5"),
              (["--batch-size", "1000000000"], "--batch-size must be at most"),
              (["--max-len", "1000000000"], "--max-len must be at most 65536"),
              (["--comm-timeout", "inf"], "--comm-timeout must be a number of seconds"),
              (["--threads", "100000000"], "--threads must be between 1 and 1024"),
          ])
    func commandLineFlags(flags: [String], message: String) throws {
        let result = try Cortado.run(["train", "--data", "/nonexistent", "--device", "cpu"] + flags)
        expectFailure(result, mentioning: [message])
        #expect(!result.stderr.contains("Missing value"), "a negative number read as a flag: \(result.stderr)")
    }

    @Test("other commands bound their sizes too", arguments: [
        ["bench", "gemm", "--size", "1000000000"], ["embed", "--batch-size", "1000000000", "x"],
        ["eval", "--checkpoint", "x", "--batch-size", "-5"],
        ["predict", "--checkpoint", "x", "--text", "a", "--limit", "-1"],
    ])
    func otherCommands(arguments: [String]) throws {
        let result = try Cortado.run(arguments)
        expectFailure(result, mentioning: [])
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
    }
}
