import Auth
import HTTPServer
import MOMCore

/// `POST /v1/auth/token`: `{"username","password"}` → `{"token","expires_in"}`.
extension BrokerAPI {
    func registerAuth(_ router: inout Router) {
        router.addDeferred(.post, "/v1/auth/token") { request, responder in
            guard let worker = self.loginWorker else {
                return _ = responder.send(error: HTTPError.serviceUnavailable(
                    "this node has no users database (start momd with --users-db FILE)", code: "auth_unavailable"))
            }
            do {
                let body = try RequestJSON.object(request, limits: self.limits)
                let name = try RequestJSON.string(body, "username") ?? ""
                let password = try RequestJSON.string(body, "password") ?? ""
                let queued = worker.login(name: name, password: password) { result in
                    switch result {
                    case .success(let issued):
                        var writer = JSONWriter()
                        writer.beginObject()
                        writer.field("token", issued.token)
                        writer.key("expires_in")
                        writer.integer(issued.expiresInSeconds)
                        writer.endObject()
                        responder.send(.json(bytes: writer.bytes))
                    case .failure(let error):
                        Log.warn("login refused", [("user", String(name.prefix(64))), ("reason", error.code)])
                        responder.send(error: HTTPError(HTTPStatus(code: error.httpStatus), code: error.code, message: error.clientMessage))
                    }
                }
                if !queued {
                    responder.send(error: HTTPError.serviceUnavailable("too many logins in progress; retry", code: "overloaded"))
                }
            } catch {
                responder.send(error: error)
            }
        }
    }
}
