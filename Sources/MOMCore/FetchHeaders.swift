/// Response headers of a partition fetch (`GET /v1/topics/{t}/partitions/{p}/records`).
public enum FetchHeaders {
    /// The answer's `next_offset`, in its head: a client that pipelines its fetches can ask for
    /// the next page as soon as the head arrives, before this page's body has (docs/api.md).
    public static let nextOffset = "MOM-Next-Offset"
}
