/// AMQP topic-exchange matching, with RabbitMQ's semantics: keys and patterns are split on '.'
/// into words (an empty key has zero words; "a..b" has an empty middle word), `*` matches
/// exactly one word, `#` matches zero or more words, and any other word matches itself only
/// (so "a*" is a literal word, as in RabbitMQ).
enum TopicPattern {
    /// Words of a routing or binding key. Empty string → no words; otherwise n dots → n+1 words.
    static func words(_ key: String) -> [Substring] {
        key.isEmpty ? [] : key.split(separator: ".", omittingEmptySubsequences: false)
    }

    /// Whether `routingKey` matches `pattern`. Dynamic programming over (pattern word, key word),
    /// so it is O(p × k) and cannot blow up on many `#`s the way naive backtracking can.
    static func matches(pattern: String, routingKey: String) -> Bool {
        let patternWords = words(pattern)
        let keyWords = words(routingKey)
        // reachable[j]: the pattern prefix seen so far can consume exactly the first j key words.
        var reachable = [Bool](repeating: false, count: keyWords.count + 1)
        reachable[0] = true
        for word in patternWords {
            var next = [Bool](repeating: false, count: keyWords.count + 1)
            switch word {
            case "#":
                var any = false
                for j in 0...keyWords.count {
                    any = any || reachable[j]
                    next[j] = any
                }
            case "*":
                for j in 0..<keyWords.count where reachable[j] { next[j + 1] = true }
            default:
                for j in 0..<keyWords.count where reachable[j] && keyWords[j] == word { next[j + 1] = true }
            }
            reachable = next
        }
        return reachable[keyWords.count]
    }
}
