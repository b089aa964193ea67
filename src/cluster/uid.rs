//! Object UIDs as the slim model keeps them: the 16 bytes of the UUID the API server writes,
//! or the text itself when it is not one (test objects, other servers).

use std::fmt;

/// A Kubernetes UID.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Uid {
    /// A UUID in its canonical text (`8-4-4-4-12` lower-case hex digits), kept as its bytes.
    Uuid([u8; 16]),
    /// Any other text.
    Text(Box<str>),
}

impl Uid {
    /// Reads a UID; the canonical UUID text becomes its 16 bytes, anything else stays text, so
    /// that [`fmt::Display`] gives back exactly what was read.
    pub fn parse(text: &str) -> Self {
        Self::uuid_bytes(text).map_or_else(|| Self::Text(text.into()), Self::Uuid)
    }

    fn uuid_bytes(text: &str) -> Option<[u8; 16]> {
        let text = text.as_bytes();
        if text.len() != 36 {
            return None;
        }
        let mut bytes = [0u8; 16];
        let mut digits = text
            .iter()
            .enumerate()
            .filter(|(i, _)| !matches!(i, 8 | 13 | 18 | 23));
        for byte in &mut bytes {
            let (_, high) = digits.next()?;
            let (_, low) = digits.next()?;
            *byte = (hex(*high)? << 4) | hex(*low)?;
        }
        [8, 13, 18, 23]
            .iter()
            .all(|&i| text[i] == b'-')
            .then_some(bytes)
    }
}

/// A lower-case hex digit's value (upper case would not print back the same).
fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uuid(bytes) => {
                for (i, byte) in bytes.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
            Self::Text(text) => f.write_str(text),
        }
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

#[cfg(test)]
mod tests;
