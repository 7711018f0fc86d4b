import Auth
import HTTPServer
import MOMCore
import SystemIO

/// Checks every request's bearer token and role before its handler runs (DESIGN.md §4): a
/// missing or bad token is 401 with `WWW-Authenticate`, a role without the permission is 403.
/// The token is verified on whichever node receives the request, forwarded ones included, so a
/// token from one node is valid on every node (they share the secret and the issuer).
struct AuthGate: Sendable {
    /// nil when the node runs with `--insecure-no-auth` (every request is let through).
    let verifier: TokenVerifier?
    /// Signs the short-lived tokens of node-to-node writes no client asked for (the dead-letter
    /// move), with the same secret; nil when auth is off.
    var internalIssuer: TokenIssuer? = nil

    /// `Bearer …` for a node's own write, or nil when auth is off.
    func internalAuthorization() -> String? {
        internalIssuer.map { "Bearer " + $0.issue(subject: "momd", role: .producer).token }
    }

    func check(_ request: HTTPRequest, _ action: Action) throws(HTTPError) {
        guard let verifier else { return }
        let claims: TokenClaims
        do {
            claims = try verifier.verify(authorizationHeader: request.headers["Authorization"])
        } catch {
            var headers = HTTPHeaders()
            headers.set(name: "WWW-Authenticate", value: "Bearer realm=\"mom\"")
            throw HTTPError(.unauthorized, code: error.code, message: "\(error)", headers: headers)
        }
        guard authorize(claims.role, action) else {
            throw .forbidden("role '\(claims.role.rawValue)' may not \(action); ask an admin for a role that may")
        }
    }
}

extension Router {
    /// Registers a deferred handler behind the gate: unauthenticated or unauthorized requests
    /// never reach it.
    mutating func add(_ method: HTTPMethod, _ pattern: String, action: Action, gate: AuthGate, _ handler: @escaping HTTPHandler) {
        addDeferred(method, pattern) { request, responder in
            do {
                try gate.check(request, action)
            } catch {
                responder.send(error: error)
                return
            }
            handler(request, responder)
        }
    }
}

/// Runs password checks (PBKDF2, ~150 ms each) off the event loop on one thread with a bounded
/// queue: a flood of logins is refused with 503 rather than queued without end.
final class LoginWorker: @unchecked Sendable {
    private let authenticator: Authenticator
    private let worker = OffloadWorker(name: "mom-login", queueMax: 64)

    init(authenticator: Authenticator) {
        self.authenticator = authenticator
    }

    /// Queues a login; false when the queue is full.
    func login(name: String, password: String, completion: @escaping @Sendable (Result<IssuedToken, UserStoreError>) -> Void) -> Bool {
        let authenticator = self.authenticator
        return worker.submit {
            do throws(UserStoreError) {
                completion(.success(try authenticator.login(name: name, password: password)))
            } catch {
                completion(.failure(error))
            }
        }
    }

    func stop() { worker.stop() }
}
