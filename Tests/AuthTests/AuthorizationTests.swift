import Auth
import Testing

@Suite("role-based authorization")
struct AuthorizationTests {
    @Test("admin may do everything")
    func admin() {
        #expect(Action.allCases.allSatisfy { authorize(.admin, $0) })
    }

    @Test("producer may publish, describe and view the cluster, nothing else")
    func producer() {
        let allowed: Set<Action> = [.publish, .describe, .viewCluster]
        for action in Action.allCases {
            #expect(authorize(.producer, action) == allowed.contains(action), "\(action)")
        }
    }

    @Test("consumer may read, receive, ack, commit, describe and view the cluster, nothing else")
    func consumer() {
        let allowed: Set<Action> = [.read, .receive, .ack, .commit, .describe, .viewCluster]
        for action in Action.allCases {
            #expect(authorize(.consumer, action) == allowed.contains(action), "\(action)")
        }
    }

    @Test("role names parse from their stored and token spelling only")
    func roleNames() {
        #expect(Role(rawValue: "admin") == .admin)
        #expect(Role(rawValue: "Admin") == nil)
        #expect(Role.namesJoined == "admin|producer|consumer")
    }
}
