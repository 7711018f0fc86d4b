// momd: the MOM node daemon. The node is assembled in the Broker module; until the cluster
// slice lands (replication host, HTTP front, coordinator wiring) it says so and exits non-zero,
// so that scripts/run falls back to the segment-log demo instead of pretending to serve.
import Broker
import Glibc

let message = Array("momd: the node daemon does not serve traffic yet (the cluster issue is open)\n".utf8)
_ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
exit(2)
