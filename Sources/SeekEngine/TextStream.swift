/// Turns generated tokens into text for streaming: holds back bytes until they form whole
/// UTF-8 characters, and holds back text that could be the start of a stop string, so
/// nothing is printed that a stop string later removes.
public struct TextStream: Sendable {
    let stops: [String]
    private var pendingBytes: [UInt8] = []
    private var pendingText = ""

    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
    }

    /// Adds a token's bytes; returns text that is safe to emit and whether a stop string
    /// was found (the returned text then ends just before it).
    public mutating func push(_ bytes: [UInt8]) -> (text: String, stopped: Bool) {
        pendingBytes += bytes
        let complete = completeUTF8Prefix(pendingBytes)
        if complete > 0 {
            pendingText += String(decoding: pendingBytes[..<complete], as: UTF8.self)
            pendingBytes.removeFirst(complete)
        }
        for stop in stops {
            if let r = pendingText.range(of: stop) {
                let out = String(pendingText[..<r.lowerBound])
                pendingText = ""
                pendingBytes = []
                return (out, true)
            }
        }
        // Keep the longest suffix that is a prefix of some stop string.
        var hold = 0
        for stop in stops {
            var k = min(stop.count, pendingText.count)
            while k > hold {
                if pendingText.hasSuffix(String(stop.prefix(k))) { hold = k; break }
                k -= 1
            }
        }
        let cut = pendingText.index(pendingText.endIndex, offsetBy: -hold)
        let out = String(pendingText[..<cut])
        pendingText = String(pendingText[cut...])
        return (out, false)
    }

    /// What is left at the end (a cut character becomes U+FFFD).
    public mutating func flush() -> String {
        let out = pendingText + String(decoding: pendingBytes, as: UTF8.self)
        pendingText = ""
        pendingBytes = []
        return out
    }
}

/// Length of the longest prefix of `b` that does not end inside a UTF-8 sequence.
func completeUTF8Prefix(_ b: [UInt8]) -> Int {
    var i = b.count
    // Look back at most 3 bytes for the start of an unfinished sequence.
    var back = 0
    while i > 0 && back < 4 {
        let c = b[i - 1]
        if c & 0xC0 == 0x80 {
            i -= 1
            back += 1
            continue
        }
        let need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1
        return back + 1 >= need ? b.count : i - 1
    }
    return b.count
}
