/// The login step of `POST /v1/auth/token`: check a name and password against the users
/// database, then issue a token carrying the user's role.
///
/// It keeps the two halves together so the REST layer cannot, say, issue a token with a role
/// taken from the request instead of the database.
public struct Authenticator: Sendable {
    /// Where users and password hashes live.
    public let store: UserStore
    /// Signs the tokens.
    public let issuer: TokenIssuer

    /// Creates an authenticator over `store` and `issuer`.
    public init(store: UserStore, issuer: TokenIssuer) {
        self.store = store
        self.issuer = issuer
    }

    /// Verifies `name` and `password` (one full PBKDF2 hash, about 100 ms by design) and returns a
    /// token for the user. On failure, answer 401 with `clientMessage` and log `description`.
    public func login(name: String, password: String) throws(UserStoreError) -> IssuedToken {
        let user = try store.verify(name: name, password: password)
        return issuer.issue(subject: user.name, role: user.role)
    }
}
