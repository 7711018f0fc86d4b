/// Everything a command needs from its surroundings, injected so commands run in tests without
/// a real terminal, environment or home directory.
struct CommandContext: Sendable {
    var console: Console
    /// Options given before the command word.
    var globals: GlobalOptions
    /// The process environment (MOM_SERVER, MOM_USER, MOM_PASSWORD, MOM_TOKEN_FILE, HOME, …).
    var environment: [String: String]
}
