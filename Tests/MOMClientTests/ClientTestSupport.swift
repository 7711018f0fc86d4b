import Foundation
import MOMCore
@testable import MOMClient

/// A configuration with tiny backoffs and short timeouts so failing paths finish quickly.
func testConfiguration(attemptsMax: Int = 4) -> MOMClientConfiguration {
    var configuration = MOMClientConfiguration()
    configuration.retry = RetryPolicy(
        attemptsMax: attemptsMax, totalMilliseconds: 300_000, backoffInitialMilliseconds: 1, backoffMillisecondsMax: 5)
    configuration.requestTimeoutMilliseconds = 120_000
    configuration.jitterSeed = 7
    return configuration
}

func makeClient(_ servers: [String], credentials: Credentials? = Credentials(username: "alice", password: "pw"),
                attemptsMax: Int = 4) throws -> MOMClient {
    try MOMClient(servers: servers, credentials: credentials, configuration: testConfiguration(attemptsMax: attemptsMax))
}
