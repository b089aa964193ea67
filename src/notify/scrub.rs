//! Scrubbing: every secret of a receiver's settings, and every meaningful part of it, is replaced
//! by `<redacted>` in text that comes from outside (a receiver's answer, an HTTP or SMTP error)
//! before that text goes into an error, a log line or `dsguard notify test`'s output.
//!
//! What is scrubbed, built once per receiver by [`Secrets`]:
//!
//! - each whole secret value: a token, a password, a header value, a receiver URL, and the
//!   base64 `user:password` of basic auth (what a receiver echoing `Authorization` shows);
//! - its parts: a URL's user name and password, its path, each path segment, its query, each
//!   query value and `key=value` pair, both as written and percent-decoded; a token's or header
//!   value's words (split at spaces, `:`, `;`, `,` and `.`, so the signature of a JWT or the
//!   credential after `Bearer` counts on its own).
//!
//! A part is scrubbed only when it has at least [`MIN_PART_LEN`] characters and is not one of
//! [`COMMON_WORDS`]: shorter parts (`T0`, `v1`, `api`) and fixed words of URLs (`services`,
//! `hooks`) carry no secret and would blank out ordinary words of every message. A whole value
//! is always scrubbed, however short, but a short one only where it stands as a word of its own
//! (`abc` in `token abc`, not in `abcd`), for the same reason.
//!
//! Each character of a secret that is not a letter or digit also matches its encodings, so that a
//! secret is found however the receiver echoed it: percent-encoded (`%3D`, `%3d`), JSON- or
//! Go-escaped (`\u003d`, `\u0026`, `\/`), HTML-escaped (`&amp;`), or `+` for a space.

use regex::{Regex, RegexBuilder};

use super::secret::{REDACTED, SecretUrl};

/// Parts of a secret shorter than this (in characters) are not scrubbed from text: six is
/// shorter than any generated token or Slack ID, and longer than the path words of receiver URLs
/// (`api`, `v1`, `hooks`) and the short words of error messages.
pub const MIN_PART_LEN: usize = 6;

/// Parts that are fixed words of receiver URLs and headers, never secret, compared ignoring case.
pub const COMMON_WORDS: &[&str] = &[
    "hooks",
    "services",
    "api",
    "v1",
    "v2",
    "webhook",
    "webhooks",
    "alerts",
    "alertmanager",
    "incoming",
    "notify",
    "bearer",
    "basic",
    "token",
];

/// The compiled pattern is bounded; a secret set too large for it redacts whole messages.
const PATTERN_SIZE_LIMIT: usize = 64 << 20;

/// The secrets of one receiver, collected before the [`Scrubber`] is built.
#[derive(Debug, Default)]
pub(crate) struct Secrets {
    /// Values scrubbed at any length (as whole words when short).
    whole: Vec<String>,
    /// Parts, kept when meaningful.
    parts: Vec<String>,
}

impl Secrets {
    /// A secret value (token, password, header value) and its words.
    pub(crate) fn value(&mut self, value: &str) -> &mut Self {
        self.whole.push(value.to_owned());
        self.parts.extend(
            value
                .split(|c: char| c.is_whitespace() || matches!(c, ':' | ';' | ',' | '.'))
                .map(str::to_owned),
        );
        self
    }

    /// Basic auth: the password, and the base64 of `user:password` a receiver may echo.
    pub(crate) fn basic_auth(&mut self, username: &str, password: &str) -> &mut Self {
        self.value(password)
            .encoded(format!("{username}:{password}").as_bytes())
    }

    /// Bytes a protocol sends base64-encoded (SMTP AUTH), as the encoding shows them.
    pub(crate) fn encoded(&mut self, bytes: &[u8]) -> &mut Self {
        self.whole.push(base64(bytes));
        self
    }

    /// A URL whose user info, path and query may be secret.
    pub(crate) fn url(&mut self, url: &SecretUrl) -> &mut Self {
        let raw = url.expose();
        self.whole.push(raw.to_owned());
        let Ok(parsed) = reqwest::Url::parse(raw) else {
            return self;
        };
        let mut parts = vec![parsed.username().to_owned()];
        parts.extend(parsed.password().map(str::to_owned));
        parts.push(parsed.path().trim_matches('/').to_owned());
        parts.extend(
            parsed
                .path_segments()
                .into_iter()
                .flatten()
                .map(str::to_owned),
        );
        if let Some(query) = parsed.query() {
            parts.push(query.to_owned());
            for pair in query.split('&') {
                parts.push(pair.to_owned());
                parts.extend(pair.split_once('=').map(|(_, v)| v.to_owned()));
            }
        }
        parts.extend(parsed.fragment().map(str::to_owned));
        for part in parts {
            let decoded = percent_decode(&part);
            self.parts.push(part);
            self.parts.extend(decoded);
        }
        self
    }

    /// Compiles the scrubber.
    pub(crate) fn build(&self) -> Scrubber {
        let mut patterns: Vec<String> = self
            .whole
            .iter()
            .filter(|v| !v.trim().is_empty())
            .map(|v| whole_pattern(v))
            .chain(
                self.parts
                    .iter()
                    .filter(|p| meaningful(p))
                    .map(|p| pattern(p)),
            )
            .collect();
        // Longest first: at one position the alternation takes the first that matches, so a
        // whole URL is redacted as one rather than segment by segment.
        patterns.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        patterns.dedup();
        if patterns.is_empty() {
            return Scrubber { pattern: Ok(None) };
        }
        let pattern = RegexBuilder::new(&patterns.join("|"))
            .size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .map(Some)
            .map_err(|_| ());
        Scrubber { pattern }
    }
}

/// Whether a part is long enough and not a common word.
fn meaningful(part: &str) -> bool {
    part.chars().count() >= MIN_PART_LEN
        && !COMMON_WORDS.iter().any(|w| w.eq_ignore_ascii_case(part))
}

/// Removes a receiver's secrets from text.
#[derive(Clone, Debug)]
pub(crate) struct Scrubber {
    /// `Ok(None)`: nothing to scrub; `Err`: the pattern could not be built, so no outside text
    /// is let through at all.
    pattern: Result<Option<Regex>, ()>,
}

impl Default for Scrubber {
    fn default() -> Self {
        Self { pattern: Ok(None) }
    }
}

impl Scrubber {
    /// `text` with every secret replaced by `<redacted>`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        match &self.pattern {
            Ok(None) => text.to_owned(),
            Ok(Some(regex)) => regex.replace_all(text, REDACTED).into_owned(),
            Err(()) if text.is_empty() => String::new(),
            Err(()) => REDACTED.to_owned(),
        }
    }
}

/// A whole value: as [`pattern`], and anchored at word boundaries when it is short.
fn whole_pattern(value: &str) -> String {
    let body = pattern(value);
    if value.chars().count() >= MIN_PART_LEN {
        return body;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let start = if word(value.chars().next()) {
        r"\b"
    } else {
        ""
    };
    let end = if word(value.chars().last()) {
        r"\b"
    } else {
        ""
    };
    format!("{start}{body}{end}")
}

/// A pattern matching `text` with each character as written or in one of its encodings.
fn pattern(text: &str) -> String {
    let mut out = String::from("(?:");
    for c in text.chars() {
        out.push_str(&char_pattern(c));
    }
    out.push(')');
    out
}

/// One character: itself, or (unless a letter or digit) percent-encoded, `\u`-escaped,
/// backslash-escaped, HTML-escaped, or `+` for a space.
fn char_pattern(c: char) -> String {
    let literal = regex::escape(c.encode_utf8(&mut [0; 4]));
    if c.is_alphanumeric() {
        return literal;
    }
    let mut alternatives = vec![literal];
    let percent: String = c
        .encode_utf8(&mut [0; 4])
        .bytes()
        .map(|b| format!("%{b:02x}"))
        .collect();
    alternatives.push(format!("(?i:{percent})"));
    if let Ok(unit) = u16::try_from(u32::from(c)) {
        alternatives.push(format!(r"(?i:\\u{unit:04x})"));
    }
    if matches!(c, '/' | '"' | '\\' | '\'') {
        alternatives.push(regex::escape(&format!("\\{c}")));
    }
    let entity = match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        ' ' => Some(r"\+"),
        _ => None,
    };
    alternatives.extend(entity.map(str::to_owned));
    format!("(?:{})", alternatives.join("|"))
}

/// `%XX` sequences decoded, when that changes the text and gives UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().filter(|d| d != text)
}

/// Standard base64 with padding (RFC 4648), as in an `Authorization: Basic` header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
