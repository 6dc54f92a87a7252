//! Input encodings. bulletin text is UTF-8 (with or without a BOM); files that
//! Windows editors save as "Unicode" are UTF-16 with a BOM, which is unambiguous,
//! so they are decoded rather than refused. Anything else that is not UTF-8 is an
//! error the reader reports with its position.

use std::io::{self, BufRead, BufReader, Read};

/// Wraps `input` so that it yields UTF-8: UTF-16 (LE or BE, recognised by its BOM)
/// is transcoded as it streams; everything else passes through unchanged.
pub fn utf8_input<'a, R: Read + 'a>(input: R) -> io::Result<Box<dyn BufRead + 'a>> {
    let mut buffered = BufReader::with_capacity(256 * 1024, input);
    let head = buffered.fill_buf()?;
    let little_endian = match head {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return Ok(Box::new(buffered)),
    };
    buffered.consume(2);
    Ok(Box::new(BufReader::with_capacity(
        256 * 1024,
        Utf16ToUtf8 {
            inner: buffered,
            little_endian,
            pending_high: None,
            out: Vec::new(),
            out_pos: 0,
            offset: 2,
        },
    )))
}

struct Utf16ToUtf8<R> {
    inner: R,
    little_endian: bool,
    /// A high surrogate waiting for its partner from the next chunk.
    pending_high: Option<u16>,
    out: Vec<u8>,
    out_pos: usize,
    /// Byte offset in the source, for error messages.
    offset: u64,
}

impl<R: BufRead> Utf16ToUtf8<R> {
    /// Decodes the next chunk into `out`; false at end of input.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_pos = 0;
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                if self.pending_high.is_some() {
                    return Err(self.invalid("the file ends inside a UTF-16 surrogate pair"));
                }
                return Ok(false);
            }
            if chunk.len() < 2 {
                // An odd byte: pull it together with the next one.
                let first = chunk[0];
                self.inner.consume(1);
                let next = self.inner.fill_buf()?;
                let Some(&second) = next.first() else {
                    return Err(self.invalid("the file ends in the middle of a UTF-16 character"));
                };
                self.inner.consume(1);
                self.push_unit([first, second])?;
                self.offset += 2;
            } else {
                let even = chunk.len() & !1;
                let units: Vec<[u8; 2]> = chunk[..even]
                    .chunks_exact(2)
                    .map(|p| [p[0], p[1]])
                    .collect();
                self.inner.consume(even);
                for unit in units {
                    self.push_unit(unit)?;
                    self.offset += 2;
                }
            }
            if !self.out.is_empty() {
                return Ok(true);
            }
        }
    }

    fn push_unit(&mut self, bytes: [u8; 2]) -> io::Result<()> {
        let unit = if self.little_endian {
            u16::from_le_bytes(bytes)
        } else {
            u16::from_be_bytes(bytes)
        };
        let c = match (self.pending_high.take(), unit) {
            (None, 0xD800..=0xDBFF) => {
                self.pending_high = Some(unit);
                return Ok(());
            }
            (Some(high), 0xDC00..=0xDFFF) => {
                let code =
                    0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                char::from_u32(code)
            }
            (None, 0xDC00..=0xDFFF) | (Some(_), _) => None,
            (None, u) => char::from_u32(u32::from(u)),
        };
        let Some(c) = c else {
            return Err(self.invalid("an unpaired UTF-16 surrogate"));
        };
        let mut buf = [0u8; 4];
        self.out
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn invalid(&self, what: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} at byte {}; save the file as UTF-8", self.offset),
        )
    }
}

impl<R: BufRead> Read for Utf16ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_pos == self.out.len() && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> io::Result<String> {
        let mut s = String::new();
        utf8_input(bytes)?.read_to_string(&mut s)?;
        Ok(s)
    }

    #[test]
    fn utf16_both_ways() {
        let text = "BAKU/JULY 18 2021 (The Bulletin) \u{2014} “x” \u{1F4F0}\r\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(decode(&le).unwrap(), text);
        assert_eq!(decode(&be).unwrap(), text);
        assert_eq!(decode(text.as_bytes()).unwrap(), text);
    }

    #[test]
    fn broken_utf16_is_an_error() {
        assert!(decode(&[0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00]).is_err());
        assert!(decode(&[0xFF, 0xFE, 0x41]).is_err());
    }
}
