// swift-tools-version:6.0
// MOM: a Raft-replicated, log-structured message broker.
// No third-party packages: only the toolchain and Debian C libraries through system-library shims.
import PackageDescription

let package = Package(
    name: "MOM",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "momd", targets: ["momd"]),
        .executable(name: "momctl", targets: ["momctl"]),
        .executable(name: "mom-bench", targets: ["mom-bench"]),
        .library(name: "MOMClient", targets: ["MOMClient"]),
    ],
    dependencies: [],
    targets: [
        // C: hardware CRC32C (SSE4.2) behind a clean header.
        .target(name: "CCRC32C", path: "Sources/CCRC32C"),
        // System-library shims: module.modulemap + shim.h, no feature macros.
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        .systemLibrary(name: "CZooKeeper", path: "Sources/CZooKeeper"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto"),

        .target(name: "MOMCore", dependencies: ["CCRC32C"]),
        .target(name: "Raft", dependencies: ["MOMCore"]),
        .target(name: "SystemIO", dependencies: ["MOMCore", "CEpoll"]),
        .target(name: "SegmentLog", dependencies: ["MOMCore", "SystemIO"]),
        .target(name: "Transport", dependencies: ["MOMCore", "SystemIO"]),
        .target(name: "Replication", dependencies: ["MOMCore", "Raft", "SegmentLog", "Transport", "SystemIO"]),
        .target(name: "Coordination", dependencies: ["MOMCore", "CZooKeeper"]),
        .target(name: "HTTPServer", dependencies: ["MOMCore", "SystemIO"]),
        .target(name: "Auth", dependencies: ["MOMCore", "CSQLite", "CCrypto"]),
        .target(name: "Broker", dependencies: [
            "MOMCore", "Raft", "SystemIO", "SegmentLog", "Transport", "Replication",
            "Coordination", "HTTPServer", "Auth",
        ]),
        .target(name: "MOMClient", dependencies: ["MOMCore"]),
        .target(name: "Simulation", dependencies: ["MOMCore", "Raft", "SystemIO", "SegmentLog"]),
        // Jepsen-style checker of chaos histories (docs/chaos.md): stdlib and Foundation only.
        .target(name: "HistoryChecker"),
        // Seeded, in-process mutation fuzzing of every untrusted-input decoder (tests and bench only).
        .target(name: "Fuzzing", dependencies: ["MOMCore", "Raft", "SystemIO", "SegmentLog", "Transport", "HTTPServer", "Broker", "Simulation"]),

        .executableTarget(name: "momd", dependencies: ["Broker"]),
        .executableTarget(name: "momctl", dependencies: ["MOMClient", "Auth"]),
        .executableTarget(
            name: "mom-bench",
            dependencies: ["MOMCore", "SystemIO", "SegmentLog", "Raft", "Simulation", "MOMClient", "HTTPServer", "HistoryChecker", "Fuzzing", "Broker"],
            path: "Benchmarks/mom-bench"),

        // Shared by the test targets that start servers (not a product; nothing in Sources uses it).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "MOMCoreTests", dependencies: ["MOMCore"]),
        .testTarget(name: "SystemIOTests", dependencies: ["SystemIO"]),
        .testTarget(name: "SegmentLogTests", dependencies: ["SegmentLog", "SystemIO"]),
        .testTarget(name: "RaftTests", dependencies: ["Raft"], resources: [.copy("testdata")]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Raft"]),
        .testTarget(name: "FuzzingTests", dependencies: ["Fuzzing"]),
        .testTarget(name: "CoordinationTests", dependencies: ["Coordination", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "SystemIO"]),
        .testTarget(name: "AuthTests", dependencies: ["Auth"]),
        .testTarget(name: "ReplicationTests", dependencies: ["Replication", "Raft", "SystemIO"]),
        .testTarget(name: "IntegrationTests", dependencies: ["MOMCore", "SystemIO", "SegmentLog", "HTTPServer", "TestSupport"]),
        .testTarget(name: "BrokerTests", dependencies: ["Broker", "TestSupport"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "SystemIO"]),
        .testTarget(name: "MOMClientTests", dependencies: ["MOMClient"]),
        .testTarget(name: "HistoryCheckerTests", dependencies: ["HistoryChecker"]),
        .testTarget(name: "MomctlTests", dependencies: ["momctl", "MOMClient", "MOMCore", "TestSupport"]),
        .testTarget(name: "MOMBenchTests", dependencies: ["mom-bench", "HTTPServer", "MOMCore", "SystemIO"]),
    ],
    swiftLanguageModes: [.v6]
)
