//! Bare LF in request heads, found where hyper cannot be asked to refuse it.
//!
//! hyper parses heads with `httparse`, which takes a lone `\n` as a line end
//! (RFC 9112 §2.2 allows that leniency; a proxy in front that does not take
//! it reads a different request than we do, the stuff of request smuggling).
//! hyper has no switch for it, so the bytes are checked on their way from
//! the socket to hyper: [`HeadScanner`] follows the connection's HTTP/1
//! framing (head, then the body hyper decoded from that head, then the next
//! head), and gives each head a [`Verdict`] that the connection's service
//! reads when hyper hands it the request. The framing after a head is not
//! re-parsed here: the service passes in hyper's own ([`Framing`], from the
//! decoded body's length), so the two cannot disagree about where a body
//! ends. Chunked bodies are stepped over with hyper's own strictness (CRLF
//! everywhere). Anything unexpected switches the scanner off with no
//! verdict, and a request without a verdict is refused: it fails closed.
//!
//! Nothing is copied but the few bytes that follow a head in the same read,
//! until the request is handed over (normally within the same poll).

use std::mem;

use memchr::memchr;

/// The request line of HTTP/2's connection preface (cleartext HTTP/2 with
/// prior knowledge): after it, the connection is not HTTP/1.
const H2_PREFACE_LINE: &[u8] = b"PRI * HTTP/2.0";

/// What the scanner found in one request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every line ended in CRLF.
    Clean,
    /// A line ended in a lone LF.
    BareLf,
    /// The scanner lost the framing (or never saw this head): refuse.
    Unknown,
}

/// The body hyper decoded from a head: so many bytes, or chunked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length` (0: no body).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// One connection's scanner; see the module doc.
#[derive(Debug)]
pub(crate) struct HeadScanner {
    phase: Phase,
    /// The verdict of the last head, until its request is handed over.
    verdict: Option<Verdict>,
    /// Whether a head has ended yet (the preface can only come first).
    seen_head: bool,
    /// The first bytes of the connection's first line.
    opening: Vec<u8>,
    /// Most bytes kept after a head while its framing is unknown.
    max_pending: usize,
}

#[derive(Debug)]
enum Phase {
    Head(Head),
    /// A head ended; the bytes after it wait for its framing.
    Framing(Vec<u8>),
    Body(u64),
    Chunked(Chunk),
    Off,
}

#[derive(Debug, Default)]
struct Head {
    /// Bytes of this head so far.
    bytes: usize,
    /// Bytes of the current line so far, a trailing CR included.
    line: usize,
    /// Whether the last byte seen was a CR.
    cr: bool,
    /// Non-empty lines so far (empty lines before the request line are skipped).
    lines: usize,
}

/// Where in a chunked body the scanner is (hyper's states, in short).
#[derive(Debug, Clone, Copy)]
enum Chunk {
    Size { size: u64, digits: u8 },
    Extension { size: u64 },
    SizeLf { size: u64 },
    Data(u64),
    DataCr,
    DataLf,
    TrailerStart,
    Trailer,
    TrailerLf,
    EndLf,
}

impl HeadScanner {
    /// A scanner for a new connection; `max_pending`: the head limit.
    pub(crate) fn new(max_pending: usize) -> Self {
        Self {
            phase: Phase::Head(Head::default()),
            verdict: None,
            seen_head: false,
            opening: Vec::new(),
            max_pending,
        }
    }

    /// Whether part of a head has arrived and its end has not.
    pub(crate) fn mid_head(&self) -> bool {
        matches!(&self.phase, Phase::Head(head) if head.bytes > 0)
    }

    /// Takes bytes just read from the socket.
    pub(crate) fn read(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let used = match &mut self.phase {
                Phase::Off => return,
                Phase::Framing(pending) => {
                    if pending.len() + bytes.len() > self.max_pending {
                        self.phase = Phase::Off;
                        return;
                    }
                    pending.extend_from_slice(bytes);
                    return;
                }
                Phase::Body(remaining) => {
                    let used = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(bytes.len());
                    *remaining -= used as u64;
                    if *remaining == 0 {
                        self.phase = Phase::Head(Head::default());
                    }
                    used
                }
                Phase::Chunked(chunk) => match step_chunk(*chunk, bytes) {
                    Some((used, Some(next))) => {
                        *chunk = next;
                        used
                    }
                    Some((used, None)) => {
                        self.phase = Phase::Head(Head::default());
                        used
                    }
                    None => {
                        self.phase = Phase::Off;
                        return;
                    }
                },
                Phase::Head(_) => self.read_head(bytes),
            };
            bytes = bytes.get(used..).unwrap_or_default();
        }
    }

    /// hyper handed over the request of the last head, whose body is
    /// `framing`: its verdict (taken), and the scanner steps over that body.
    pub(crate) fn next_request(&mut self, framing: Framing) -> Verdict {
        let verdict = self.verdict.take().unwrap_or(Verdict::Unknown);
        match mem::replace(&mut self.phase, Phase::Off) {
            Phase::Framing(pending) => {
                self.phase = match framing {
                    Framing::Length(0) => Phase::Head(Head::default()),
                    Framing::Length(n) => Phase::Body(n),
                    Framing::Chunked => Phase::Chunked(Chunk::Size { size: 0, digits: 0 }),
                };
                self.read(&pending);
                verdict
            }
            // A bare LF switched the scanner off with its verdict pending.
            Phase::Off => verdict,
            // hyper saw a head end where the scanner did not: stop trusting it.
            _ => Verdict::Unknown,
        }
    }

    /// Takes head bytes; returns how many it used (up to the head's end).
    fn read_head(&mut self, bytes: &[u8]) -> usize {
        let Phase::Head(head) = &mut self.phase else {
            return bytes.len();
        };
        let mut at = 0;
        loop {
            let rest = bytes.get(at..).unwrap_or_default();
            let Some(lf) = memchr(b'\n', rest) else {
                if !self.seen_head && head.lines == 0 {
                    keep_opening(&mut self.opening, rest);
                }
                head.bytes += rest.len();
                head.line += rest.len();
                if let Some(&last) = rest.last() {
                    head.cr = last == b'\r';
                }
                return bytes.len();
            };
            let before = rest.get(..lf).unwrap_or_default();
            if !self.seen_head && head.lines == 0 {
                keep_opening(&mut self.opening, before);
            }
            let cr = before.last().map_or(head.cr, |&b| b == b'\r');
            if !cr {
                self.verdict = Some(Verdict::BareLf);
                self.phase = Phase::Off;
                return bytes.len();
            }
            let content = head.line + before.len() - 1;
            head.bytes += lf + 1;
            head.line = 0;
            head.cr = false;
            at += lf + 1;
            if content > 0 {
                head.lines += 1;
                continue;
            }
            if head.lines == 0 {
                // An empty line before the request line: skipped, like hyper does.
                continue;
            }
            let first = !self.seen_head;
            self.seen_head = true;
            if first && self.opening.strip_suffix(b"\r") == Some(H2_PREFACE_LINE) {
                // Cleartext HTTP/2: binary from here on, and no HTTP/1 requests.
                self.phase = Phase::Off;
                return bytes.len();
            }
            self.opening = Vec::new();
            if self.verdict.replace(Verdict::Clean).is_some() {
                // A second head before the first was handed over: impossible
                // with hyper's framing, so the scanner is lost.
                self.verdict = Some(Verdict::Unknown);
                self.phase = Phase::Off;
                return bytes.len();
            }
            self.phase = Phase::Framing(Vec::new());
            return at;
        }
    }
}

/// Keeps the first bytes of the first line, for the preface check.
fn keep_opening(opening: &mut Vec<u8>, bytes: &[u8]) {
    let room = (H2_PREFACE_LINE.len() + 1).saturating_sub(opening.len());
    opening.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
}

/// Steps a chunked body over `bytes`: how many it used and the next state
/// (`None`: the body ended); `None` overall when the framing is broken.
fn step_chunk(state: Chunk, bytes: &[u8]) -> Option<(usize, Option<Chunk>)> {
    let mut state = state;
    let mut used = 0;
    while let Some(&byte) = bytes.get(used) {
        if let Chunk::Data(remaining) = state {
            let take = usize::try_from(remaining)
                .unwrap_or(usize::MAX)
                .min(bytes.len() - used);
            used += take;
            let left = remaining - take as u64;
            state = if left == 0 {
                Chunk::DataCr
            } else {
                Chunk::Data(left)
            };
            continue;
        }
        used += 1;
        state = match (state, byte) {
            (Chunk::Size { size, digits }, b) if b.is_ascii_hexdigit() => {
                let digit = u64::from((b as char).to_digit(16)?);
                if digits >= 16 {
                    return None;
                }
                Chunk::Size {
                    size: size.checked_mul(16)?.checked_add(digit)?,
                    digits: digits + 1,
                }
            }
            (Chunk::Size { size, digits }, b';' | b' ' | b'\t') if digits > 0 => {
                Chunk::Extension { size }
            }
            (Chunk::Size { size, digits }, b'\r') if digits > 0 => Chunk::SizeLf { size },
            (Chunk::Extension { size }, b'\r') => Chunk::SizeLf { size },
            (Chunk::Extension { .. }, b'\n') => return None,
            (state @ Chunk::Extension { .. }, _) => state,
            (Chunk::SizeLf { size: 0 }, b'\n') => Chunk::TrailerStart,
            (Chunk::SizeLf { size }, b'\n') => Chunk::Data(size),
            (Chunk::DataCr, b'\r') => Chunk::DataLf,
            (Chunk::DataLf, b'\n') => Chunk::Size { size: 0, digits: 0 },
            (Chunk::TrailerStart, b'\r') => Chunk::EndLf,
            (Chunk::TrailerStart | Chunk::Trailer, b'\n') => return None,
            (Chunk::Trailer, b'\r') => Chunk::TrailerLf,
            (Chunk::TrailerStart | Chunk::Trailer, _) => Chunk::Trailer,
            (Chunk::TrailerLf, b'\n') => Chunk::TrailerStart,
            (Chunk::EndLf, b'\n') => return Some((used, None)),
            _ => return None,
        };
    }
    Some((used, Some(state)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `wire` in pieces of `piece` bytes; hands each request over with
    /// its framing when the scanner has a verdict; returns the verdicts.
    fn scan(wire: &[u8], piece: usize, framings: &[Framing]) -> Vec<Verdict> {
        let mut scanner = HeadScanner::new(16 * 1024);
        let mut verdicts = Vec::new();
        let mut framings = framings.iter();
        for part in wire.chunks(piece) {
            scanner.read(part);
            while scanner.verdict.is_some() {
                let framing = framings.next().copied().unwrap_or(Framing::Length(0));
                verdicts.push(scanner.next_request(framing));
            }
        }
        verdicts
    }

    const GET: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";

    #[test]
    fn crlf_heads_are_clean_in_any_pieces() {
        let wire = [GET, GET, GET].concat();
        for piece in [1, 2, 3, 7, 1000] {
            assert_eq!(scan(&wire, piece, &[]), vec![Verdict::Clean; 3], "{piece}");
        }
    }

    #[test]
    fn a_bare_lf_anywhere_in_a_head_is_found() {
        for wire in [
            &b"GET / HTTP/1.1\nHost: a\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n\n",
            b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        ] {
            for piece in [1, 5, 1000] {
                assert_eq!(scan(wire, piece, &[]), vec![Verdict::BareLf], "{wire:?}");
            }
        }
        // ... and in a later request of the same connection.
        let wire = [GET, b"GET / HTTP/1.1\r\nHost: a\n\r\n"].concat();
        assert_eq!(
            scan(&wire, 1000, &[]),
            vec![Verdict::Clean, Verdict::BareLf]
        );
    }

    #[test]
    fn bodies_are_stepped_over_by_their_framing_even_with_newlines_inside() {
        let post = b"POST /w HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n{\n\"a\":\n1\n}\n\n";
        let wire = [&post[..], GET].concat();
        for piece in [1, 4, 1000] {
            assert_eq!(
                scan(&wire, piece, &[Framing::Length(12), Framing::Length(0)]),
                vec![Verdict::Clean, Verdict::Clean],
                "{piece}"
            );
        }
        let chunked = b"POST /w HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\na\nb\nc\r\n0\r\nX-T: 1\r\n\r\n";
        let wire = [&chunked[..], b"\r\n", GET].concat();
        for piece in [1, 3, 1000] {
            assert_eq!(
                scan(&wire, piece, &[Framing::Chunked, Framing::Length(0)]),
                vec![Verdict::Clean, Verdict::Clean],
                "{piece}"
            );
        }
    }

    #[test]
    fn lost_framing_fails_closed() {
        // Broken chunk framing: the next request has no verdict.
        let chunked = b"POST /w HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        let wire = [&chunked[..], GET].concat();
        assert_eq!(scan(&wire, 1000, &[Framing::Chunked]), vec![Verdict::Clean]);
        let mut scanner = HeadScanner::new(16 * 1024);
        scanner.read(&wire);
        assert_eq!(scanner.next_request(Framing::Chunked), Verdict::Clean);
        assert_eq!(scanner.next_request(Framing::Length(0)), Verdict::Unknown);
        // A request handed over mid-head (hyper and the scanner disagree).
        let mut scanner = HeadScanner::new(16 * 1024);
        scanner.read(b"GET / HTTP/1.1\r\n");
        assert_eq!(scanner.next_request(Framing::Length(0)), Verdict::Unknown);
        // Too much after a head before it is handed over.
        let mut scanner = HeadScanner::new(64);
        scanner.read(GET);
        scanner.read(&[b'x'; 100]);
        assert_eq!(scanner.next_request(Framing::Length(100)), Verdict::Clean);
        assert_eq!(scanner.next_request(Framing::Length(0)), Verdict::Unknown);
    }

    #[test]
    fn tells_when_a_head_is_under_way_and_stops_at_the_http2_preface() {
        let mut scanner = HeadScanner::new(16 * 1024);
        assert!(!scanner.mid_head());
        scanner.read(b"GET / HT");
        assert!(scanner.mid_head());
        scanner.read(b"TP/1.1\r\n\r\n");
        assert!(!scanner.mid_head());
        let mut scanner = HeadScanner::new(16 * 1024);
        scanner.read(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\n\n\n");
        assert_eq!(scanner.verdict, None);
        assert!(matches!(scanner.phase, Phase::Off));
    }
}
