import CortadoTraining
import Foundation
import Testing

/// `mpirun -np 2 cortado train …` against the one-process run of the same global batch.
@Suite("Data-parallel training under mpirun", .serialized)
struct DistributedTrainingTests {
    /// A synthetic MNIST-format directory: `train` images of 3×2 pixels in 3 classes, `test` more.
    func syntheticImages(train: Int = 512, test: Int = 60) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        func labels(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(($0 * 7 + $0 / 5) % 3) } }
        try directory.write("train-images-idx3-ubyte", IDXBytes.images(count: train))
        try directory.write("train-labels-idx1-ubyte", IDXBytes.labels(labels(train)))
        try directory.write("t10k-images-idx3-ubyte", IDXBytes.images(count: test))
        try directory.write("t10k-labels-idx1-ubyte", IDXBytes.labels(labels(test)))
        return directory
    }

    /// Trains once with 2 ranks and once in one process; returns both loss logs and last reports.
    func bothRuns(
        _ arguments: [String], ranksArguments: [String] = [], launcher: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (one: [Float], two: [Float], oneReport: [String: Any], twoReport: [String: Any]) {
        let directory = try TemporaryDirectory()
        let common = ["train", "--threads", "1", "--json"] + arguments
        let single = try Cortado.run(common + ["--loss-log", directory.file("one.jsonl")])
        #expect(single.status == 0, "\(single.stderr)", sourceLocation: sourceLocation)
        let parallel = try MPIRun.run(ranks: 2, common + ranksArguments + ["--loss-log", directory.file("two.jsonl")], launcher: launcher)
        #expect(parallel.status == 0, "\(parallel.stderr)", sourceLocation: sourceLocation)
        func losses(_ name: String) throws -> [Float] {
            try jsonLines(file: directory.file(name)).compactMap { ($0["loss"] as? Double).map(Float.init) }
        }
        let oneReport = try #require(jsonLines(single.stdout).last, sourceLocation: sourceLocation)
        let twoReport = try #require(jsonLines(parallel.stdout).last, "\(parallel.stderr)", sourceLocation: sourceLocation)
        return (try losses("one.jsonl"), try losses("two.jsonl"), oneReport, twoReport)
    }

    /// Ranks bound to one core each (mpirun's default for 2 ranks) reduce after the backward pass;
    /// unbound, with a spare core, the communication thread overlaps it.
    @Test("cnn: 2 ranks follow the one-process run with the same global batch for 50 steps",
          arguments: [("cpu", "core"), ("cpu", "none"), ("opencl", "none")])
    func cnnMatchesOneProcess(device: String, binding: String) throws {
        let runs = try bothRuns(["--model", "cnn", "--batch-size", "64", "--limit", "3200", "--epochs", "1", "--device", device],
                                launcher: ["--bind-to", binding])
        #expect(runs.one.count == 50)
        assertClose(runs.two, runs.one, rtol: 1e-4, atol: 0, "per-step global losses")
        #expect(runs.twoReport["ranks"] as? Int == 2 && runs.twoReport["batch_shares"] as? [Int] == [32, 32])
        let accuracy = try #require(runs.oneReport["test_accuracy"] as? Double)
        #expect(abs((runs.twoReport["test_accuracy"] as? Double ?? 0) - accuracy) <= 0.003)
        // Only rank 0 writes the report.
        #expect(runs.twoReport["epoch"] as? Int == 1)
    }

    @Test("lstm: dropout masks follow the global batch, so 2 ranks match one process step by step")
    func lstmDropoutMatchesOneProcess() throws {
        let runs = try bothRuns(["--model", "lstm", "--data", "movie-snippets", "--max-len", "16", "--batch-size", "32",
                                 "--limit", "320", "--epochs", "1", "--device", "cpu"])
        #expect(runs.one.count == 10)
        assertClose(runs.two, runs.one, rtol: 1e-4, atol: 0, "per-step global losses")
    }

    @Test("2 ranks computing their shares in micro-batches follow the one-process run with whole batches")
    func microBatchesMatchOneProcess() throws {
        let cnn = try bothRuns(["--model", "cnn", "--batch-size", "64", "--limit", "640", "--epochs", "1", "--device", "cpu"],
                               ranksArguments: ["--micro-batch", "12"])
        #expect(cnn.one.count == 10)
        assertClose(cnn.two, cnn.one, rtol: 1e-4, atol: 0, "cnn per-step global losses")
        // Dropout: every pass of a rank draws the global batch's mask, as one whole pass would.
        let lstm = try bothRuns(["--model", "lstm", "--data", "movie-snippets", "--max-len", "16", "--batch-size", "32",
                                 "--limit", "320", "--epochs", "1", "--device", "cpu"], ranksArguments: ["--micro-batch", "6"])
        assertClose(lstm.two, lstm.one, rtol: 1e-4, atol: 0, "lstm per-step global losses")
    }

    @Test("--balance auto with a cpu rank and an opencl rank: shares by speed, the same losses as one process")
    func balanceAuto() throws {
        let data = try syntheticImages(train: 1024)
        let runs = try bothRuns(["--model", "mlp", "--data", data.path, "--batch-size", "64", "--epochs", "2", "--device", "cpu"],
                                ranksArguments: ["--device", "cpu,opencl", "--balance", "auto"])
        assertClose(runs.two, runs.one, rtol: 1e-4, atol: 0, "per-step global losses")
        let shares = try #require(runs.twoReport["batch_shares"] as? [Int])
        #expect(shares.count == 2 && shares.reduce(0, +) == 64 && shares.allSatisfy { $0 > 0 })
        #expect(runs.twoReport["device"] as? String == "cpu,opencl:0")
    }

    @Test("--balance auto without overlap measures every window of steps: a rank slowed mid-epoch hands samples over within the epoch")
    func balanceEveryWindow() throws {
        let data = try syntheticImages(train: 1024), directory = try TemporaryDirectory()
        let result = try MPIRun.run(ranks: 2, ["train", "--model", "mlp", "--data", data.path, "--batch-size", "64", "--epochs", "1",
                                               "--threads", "1", "--device", "cpu,opencl", "--balance", "auto",
                                               "--profile", directory.file("trace.json")], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let trace = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.fileURL("trace.json"))) as? [String: Any])
        let rebalances = (trace["traceEvents"] as? [[String: Any]] ?? []).filter { $0["name"] as? String == "rebalance" }
        // 16 steps; after the first (warm-up), windows of 4 steps: rebalanced after steps 5, 9 and 13.
        #expect(rebalances.count == 3, "\(rebalances.count) rebalances")
        for event in rebalances {
            let shares = ((event["args"] as? [String: Any])?["shares"] as? String ?? "").split(separator: ",").compactMap { Int($0) }
            #expect(shares.count == 2 && shares.reduce(0, +) == 64 && shares.allSatisfy { $0 > 0 }, "\(shares)")
        }
    }

    @Test("a checkpoint resumes on any number of ranks: 2 ranks → 1 process → 2 ranks, as one uninterrupted run")
    func resumeAcrossRankCounts() throws {
        let data = try syntheticImages()
        let directory = try TemporaryDirectory()
        let checkpoint = directory.file("dp.safetensors")
        let common = ["train", "--data", data.path, "--batch-size", "32", "--device", "cpu", "--threads", "1", "--json", "--seed", "4"]
        let straight = try Cortado.run(common + ["--model", "mlp", "--epochs", "3"])
        #expect(straight.status == 0, "\(straight.stderr)")
        let first = try MPIRun.run(ranks: 2, common + ["--model", "mlp", "--epochs", "1", "--save", checkpoint])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try Cortado.run(common + ["--resume", checkpoint, "--epochs", "2", "--save", checkpoint])
        #expect(second.status == 0, "\(second.stderr)")
        let third = try MPIRun.run(ranks: 2, common + ["--resume", checkpoint, "--epochs", "3", "--save", checkpoint])
        #expect(third.status == 0, "\(third.stderr)")
        let expected = jsonLines(straight.stdout)
        let resumed = [jsonLines(first.stdout), jsonLines(second.stdout), jsonLines(third.stdout)].flatMap { $0 }
        #expect(resumed.map { $0["epoch"] as? Int } == [1, 2, 3])
        assertClose(resumed.compactMap { ($0["train_loss"] as? Double).map(Float.init) },
                    expected.compactMap { ($0["train_loss"] as? Double).map(Float.init) }, rtol: 1e-4, atol: 0, "train losses")
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        #expect(saved.configuration.epochsCompleted == 3 && saved.configuration.steps == 48)
    }

    @Test("a data-parallel run interrupted mid-epoch resumes at the next global batch: the weights equal an uninterrupted run's")
    func exactResumeAfterInterrupt() throws {
        // 6,000 steps per epoch, and the interrupt half a second after training starts: inside the
        // first epoch even on a fast, idle machine (with 2,000 steps and a one-second wait, a Zen 5
        // finished both epochs first).
        let directory = try TemporaryDirectory(), data = try syntheticImages(train: 48000)
        let common = ["train", "--model", "mlp", "--data", data.path, "--epochs", "2", "--batch-size", "8", "--device", "cpu",
                      "--threads", "1", "--seed", "6"]
        let straight = try MPIRun.run(ranks: 2, common + ["--save", directory.file("straight.safetensors")])
        #expect(straight.status == 0, "\(straight.stderr)")

        // Ctrl-C once the ranks train: the interrupted epoch's checkpoint records its global batches.
        let checkpoint = directory.file("run.safetensors")
        let run = try MPIRun.start([(2, common + ["--save", checkpoint])], directory: directory)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, run.process.isRunning,
              !((try? String(contentsOf: run.stderr, encoding: .utf8)) ?? "").contains("training mlp") {
            Thread.sleep(forTimeInterval: 0.05)
        }
        Thread.sleep(forTimeInterval: 0.5)
        run.process.interrupt()
        #expect(MPIRun.waitForExit(run.process, timeout: 30))
        run.process.waitUntilExit()
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint)).configuration
        let messages = try String(contentsOf: run.stderr, encoding: .utf8)
        let stepsIntoEpoch = saved.stepsIntoEpoch ?? 0
        try #require(saved.epochsCompleted < 2 && stepsIntoEpoch > 0,
                     "the interrupt did not land inside an epoch: \(saved.epochsCompleted) epochs, \(stepsIntoEpoch) steps; \(messages)")

        let resumed = try MPIRun.run(ranks: 2, common + ["--resume", checkpoint, "--save", checkpoint])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let want = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: directory.file("straight.safetensors")))
        let got = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        #expect(got.configuration.steps == want.configuration.steps)
        let expected = Dictionary(uniqueKeysWithValues: try want.makeModel(device: .cpu).namedParameters().map { ($0.name, $0.parameter.value) })
        for (name, parameter) in try got.makeModel(device: .cpu).namedParameters() {
            assertClose(try parameter.value.toArray(), try #require(expected[name]).toArray(), rtol: 1e-6, atol: 1e-7, name)
        }
    }

    @Test("ranks started with different flags are refused at start, saying what differs")
    func mismatchedFlags() throws {
        let data = try syntheticImages()
        let common = ["train", "--model", "mlp", "--data", data.path, "--epochs", "1", "--device", "cpu"]
        let result = try MPIRun.run([(1, common + ["--lr", "0.001"]), (1, common + ["--lr", "0.01", "--batch-size", "16"])], timeout: 120)
        expectFailure(result, mentioning: ["disagree", "rank 1 has --lr 0.01, rank 0 has 0.001", "--batch-size 16"])
        #expect(!result.stdout.contains("epoch"))
    }

    @Test("a rank that cannot start stops the job with its error and rank")
    func rankFailsAlone() throws {
        let data = try syntheticImages()
        let result = try MPIRun.run(ranks: 2, ["train", "--model", "mlp", "--data", data.path, "--device", "cpu,gpu:7"], timeout: 120)
        expectFailure(result, mentioning: ["rank 1", "gpu:7"])
        expectFailure(try MPIRun.run(ranks: 2, ["train", "--model", "mlp", "--data", data.path, "--device", "cpu,cpu,cpu"], timeout: 120),
                      mentioning: ["--device", "3 devices for 2 ranks"])
    }

    /// Starts a long 2-rank run that saves every epoch; returns once the first checkpoint exists.
    func startLongRun(_ directory: TemporaryDirectory, data: TemporaryDirectory) throws -> (process: Process, stderr: URL, checkpoint: String) {
        let checkpoint = directory.file("long.safetensors")
        let run = try MPIRun.start(
            [(2, ["train", "--model", "mlp", "--data", data.path, "--epochs", "100000", "--batch-size", "8", "--device", "cpu",
                  "--threads", "1", "--save", checkpoint])], directory: directory)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, run.process.isRunning, !FileManager.default.fileExists(atPath: checkpoint) {
            Thread.sleep(forTimeInterval: 0.1)
        }
        Thread.sleep(forTimeInterval: 0.3)
        return (run.process, run.stderr, checkpoint)
    }

    @Test("kill -9 of one rank mid-epoch ends the job within 30 s, naming the rank; the last checkpoint loads")
    func killedRank() throws {
        let directory = try TemporaryDirectory(), data = try syntheticImages(train: 4000)
        let (process, stderr, checkpoint) = try startLongRun(directory, data: data)
        let victim = try #require(MPIRun.pid(ofRank: 1, launcher: process))
        let killed = Date()
        kill(victim, SIGKILL)
        #expect(MPIRun.waitForExit(process, timeout: 30), "the job still runs 30 s after rank 1 was killed")
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(killed) < 30)
        #expect(process.terminationStatus != 0)
        let messages = try String(contentsOf: stderr, encoding: .utf8)
        #expect(messages.contains("rank 1"), "\(messages)")
        _ = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint)).makeModel(device: .cpu)
    }

    @Test("Ctrl-C at mpirun stops every rank after the same step; rank 0 writes one loadable checkpoint")
    func interruptLauncher() throws {
        let directory = try TemporaryDirectory(), data = try syntheticImages(train: 4000)
        let (process, stderr, checkpoint) = try startLongRun(directory, data: data)
        process.interrupt()
        let exited = MPIRun.waitForExit(process, timeout: 30)
        let messages = try String(contentsOf: stderr, encoding: .utf8)
        #expect(exited, "\(messages)")
        if !exited { process.terminate() }
        process.waitUntilExit()
        let notes = messages.components(separatedBy: "interrupted during epoch").count - 1
        #expect(notes == 1, "\(messages)")
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        #expect(saved.configuration.steps > 0)
        #expect(try directory.listing().filter { $0.hasPrefix(".long") }.isEmpty, "a temporary checkpoint was left behind")
    }

    @Test("Ctrl-C on one rank stops every rank; rank 0 saves, every rank exits with 130")
    func interruptOneRank() throws {
        let directory = try TemporaryDirectory(), data = try syntheticImages(train: 4000)
        let (process, stderr, checkpoint) = try startLongRun(directory, data: data)
        let before = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint)).configuration.steps
        kill(try #require(MPIRun.pid(ofRank: 1, launcher: process)), SIGINT)
        #expect(MPIRun.waitForExit(process, timeout: 30))
        process.waitUntilExit()
        let messages = try String(contentsOf: stderr, encoding: .utf8)
        #expect(messages.contains("interrupted during epoch"), "\(messages)")
        #expect(process.terminationStatus == 130, "\(messages)")
        #expect(try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint)).configuration.steps > before)
    }

    @Test("--profile under mpirun: each rank writes its trace (rank 1 to NAME.rank1.json) on one wall clock")
    func profilePerRank() throws {
        let data = try syntheticImages(), directory = try TemporaryDirectory()
        let result = try MPIRun.run(ranks: 2, ["train", "--model", "mlp", "--data", data.path, "--epochs", "1", "--batch-size", "64",
                                               "--device", "cpu", "--threads", "1", "--profile", directory.file("trace.json")], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        var allReduceEnds: [[Double]] = []
        for (rank, name) in ["trace.json", "trace.rank1.json"].enumerated() {
            let trace = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.fileURL(name))) as? [String: Any])
            let events = try #require(trace["traceEvents"] as? [[String: Any]])
            let process = events.first { $0["name"] as? String == "process_name" }
            #expect(process?["pid"] as? Int == rank + 1)
            #expect((process?["args"] as? [String: Any])?["name"] as? String == "cortado train rank \(rank)")
            let reductions = events.filter { $0["cat"] as? String == "communicate" }
            #expect(reductions.allSatisfy { $0["pid"] as? Int == rank + 1 })
            allReduceEnds.append(reductions.map { ($0["ts"] as? Double ?? 0) + ($0["dur"] as? Double ?? 0) })
        }
        // 512 samples in global batches of 64: 8 steps, each ending in an all-reduce that both
        // ranks leave together, so the two clocks agree on when (within 20 ms here).
        #expect(allReduceEnds[0].count == 8 && allReduceEnds[1].count == 8)
        for (end0, end1) in zip(allReduceEnds[0], allReduceEnds[1]) { #expect(abs(end0 - end1) < 20_000, "\(end0) vs \(end1) µs") }
        // Wall-clock microseconds since 1970 (not since each process began).
        let now = Date().timeIntervalSince1970 * 1e6
        #expect(allReduceEnds.joined().allSatisfy { now - 300e6 < $0 && $0 <= now }, "\(allReduceEnds[0].first ?? 0) vs \(now)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("trace.rank0.json")))
    }

    @Test("bench --suite comm under mpirun times the gradient path against plain MPI_Allreduce; alone it says to use mpirun")
    func commBench() throws {
        let result = try MPIRun.run(ranks: 2, ["bench", "--suite", "comm", "--model", "cnn", "--model", "linear", "--threads", "1",
                                               "--repeats", "3", "--warmup", "1", "--json"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = jsonLines(result.stdout)
        #expect(rows.map { $0["case_name"] as? String } == ["cnn gradient buckets", "cnn MPI_Allreduce", "linear gradient buckets", "linear MPI_Allreduce"])
        #expect(rows.first?["bytes"] as? Int == 347_146 * 4 && rows.first?["buckets"] as? Int == 2 && rows.first?["ranks"] as? Int == 2)
        #expect((rows.first?["of_plain"] as? Double ?? 0) > 0 && (rows.first?["median_ms"] as? Double ?? 0) > 0)
        expectFailure(try Cortado.run(["bench", "--suite", "comm"]), mentioning: ["mpirun"])
    }
}
