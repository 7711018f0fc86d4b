// mom-bench: throughput and latency benchmark for MOM.
import MOMCore
