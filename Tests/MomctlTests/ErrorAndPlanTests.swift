import Foundation
import MOMClient
import Testing
@testable import momctl

@Suite("momctl exit codes and connection plans")
struct ErrorAndPlanTests {
    @Test("errors map to exit codes 1 (runtime, server) and 2 (usage)")
    func exitCodes() {
        let cases: [(any Error, CommandExit)] = [
            (UsageError(message: "bad"), .usage),
            (MOMClientError.invalidArgument("'x' is not host:port"), .usage),
            (RuntimeFailure(message: "expired"), .failure),
            (MOMClientError.server(status: 404, code: "not_found", message: "topic 'x' does not exist"), .failure),
            (MOMClientError.server(status: 503, code: "no_leader", message: "retry"), .failure),
            (MOMClientError.transport("refused"), .failure),
            (MOMClientError.timeout("slow"), .failure),
            (MOMClientError.decoding("odd"), .failure),
            (PasswordInput.Failure(message: "empty"), .failure),
        ]
        for (error, expected) in cases {
            #expect(ErrorReport.describe(error, authentication: .none).status == expected, "\(error)")
        }
    }

    @Test("a server error prints its status, code and message; a 401 adds what to do")
    func serverMessages() {
        let notFound = ErrorReport.describe(
            MOMClientError.server(status: 404, code: "not_found", message: "topic 'x' does not exist"), authentication: .none)
        #expect(notFound.message == "server error 404 not_found: topic 'x' does not exist")
        let unauthorized = MOMClientError.server(status: 401, code: "unauthorized", message: "token expired")
        #expect(ErrorReport.describe(unauthorized, authentication: .none).message.contains("run 'momctl login"))
        #expect(ErrorReport.describe(unauthorized, authentication: .savedToken(path: "/t")).message.contains("saved login in /t"))
        #expect(ErrorReport.describe(unauthorized, authentication: .credentials(user: "bob")).message.contains("user 'bob' was refused"))
    }

    @Test("token file location: flag, MOM_TOKEN_FILE, XDG_CONFIG_HOME, HOME")
    func tokenPath() throws {
        #expect(try TokenStore.path(override: "/f", environment: ["MOM_TOKEN_FILE": "/e", "HOME": "/h"]) == "/f")
        #expect(try TokenStore.path(override: nil, environment: ["MOM_TOKEN_FILE": "/e", "HOME": "/h"]) == "/e")
        #expect(try TokenStore.path(override: nil, environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"]) == "/x/mom/token")
        #expect(try TokenStore.path(override: nil, environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/h"]) == "/h/.config/mom/token")
        #expect(throws: UsageError.self) { try TokenStore.path(override: nil, environment: [:]) }
    }

    private let saved = SavedLogin(server: "http://10.0.0.1:8080", user: "alice", token: "t0k", expiresAtMilliseconds: 2_000)

    @Test("servers: --server, then MOM_SERVER, then the saved login's, then the default")
    func serverPrecedence() throws {
        func servers(_ options: GlobalOptions, _ environment: [String: String], _ login: SavedLogin?) throws -> [String] {
            try ConnectionPlan.make(options: options, environment: environment, savedLogin: login, tokenPath: "/t", nowMilliseconds: 1_000).servers
        }
        #expect(try servers(GlobalOptions(servers: ["a:1"]), ["MOM_SERVER": "b:2"], saved) == ["a:1"])
        #expect(try servers(GlobalOptions(), ["MOM_SERVER": "b:2,c:3"], saved) == ["b:2", "c:3"])
        #expect(try servers(GlobalOptions(), [:], saved) == ["http://10.0.0.1:8080"])
        #expect(try servers(GlobalOptions(), [:], nil) == [ConnectionPlan.defaultServer])
    }

    @Test("auth: --user, then MOM_USER with MOM_PASSWORD, then the saved token, then none")
    func authenticationPrecedence() throws {
        func plan(_ options: GlobalOptions, _ environment: [String: String], _ login: SavedLogin?, now: Int64 = 1_000) throws -> ConnectionPlan.Authentication {
            try ConnectionPlan.make(options: options, environment: environment, savedLogin: login, tokenPath: "/t", nowMilliseconds: now).authentication
        }
        #expect(try plan(GlobalOptions(user: "bob", passwordFromStandardInput: true), [:], saved)
            == .credentials(user: "bob", passwordFromStandardInput: true))
        #expect(try plan(GlobalOptions(user: "bob"), ["MOM_PASSWORD": "p"], saved) == .credentials(user: "bob", passwordFromStandardInput: false))
        #expect(throws: UsageError.self) { try plan(GlobalOptions(user: "bob"), [:], saved) }
        #expect(throws: UsageError.self) { try plan(GlobalOptions(passwordFromStandardInput: true), [:], saved) }
        #expect(try plan(GlobalOptions(), ["MOM_USER": "carol", "MOM_PASSWORD": "p"], saved) == .credentials(user: "carol", passwordFromStandardInput: false))
        #expect(try plan(GlobalOptions(), ["MOM_USER": "carol"], saved) == .savedToken(token: "t0k", path: "/t"))
        #expect(try plan(GlobalOptions(), [:], nil) == ConnectionPlan.Authentication.none)
    }

    @Test("an expired saved login is refused with a message naming the user and the fix")
    func expired() throws {
        do {
            _ = try ConnectionPlan.make(options: GlobalOptions(), environment: [:], savedLogin: saved, tokenPath: "/t", nowMilliseconds: 2_000)
            Issue.record("an expired token was accepted")
        } catch let failure as RuntimeFailure {
            #expect(failure.message.contains("expired"))
            #expect(failure.message.contains("momctl login --user alice --password-stdin"))
        }
    }
}
