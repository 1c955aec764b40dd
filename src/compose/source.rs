//! Where an attachment's bytes come from: memory the message owns, a file
//! opened when the part is written (and again for a second pass), or the
//! caller's read callback. A callback can be read a second time (DKIM's
//! body pass, then the send; a pool's retry) only when the caller gave a
//! way to rewind it; otherwise a second read is refused by name.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// The caller's reader: `read` as `smtp_read_fn` (bytes, 0 at the end);
/// `rewind` starts it again, when `can_rewind`.
pub trait Reader {
    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, String>;
    fn can_rewind(&self) -> bool;
    fn rewind(&mut self) -> std::result::Result<(), String>;
}

pub enum Source {
    Memory(Vec<u8>),
    File(PathBuf),
    Reader { reader: Box<dyn Reader>, used: bool },
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Memory(b) => write!(f, "Memory({} bytes)", b.len()),
            Source::File(p) => write!(f, "File({})", p.display()),
            Source::Reader { used, .. } => write!(f, "Reader(used: {used})"),
        }
    }
}

impl Source {
    /// Its length when known without reading it (a file's from its
    /// metadata, which also says early that it cannot be opened).
    pub fn len(&self) -> Result<Option<u64>> {
        match self {
            Source::Memory(b) => Ok(Some(b.len() as u64)),
            Source::File(p) => std::fs::metadata(p)
                .map(|m| Some(m.len()))
                .map_err(|e| Error::InvalidArgument(format!("attachment {}: {e}", p.display()))),
            Source::Reader { .. } => Ok(None),
        }
    }

    /// Whether it can be read more than once.
    pub fn rereadable(&self) -> bool {
        match self {
            Source::Reader { reader, .. } => reader.can_rewind(),
            _ => true,
        }
    }

    /// Read once already, and cannot be read again (no rewind callback).
    pub fn spent(&self) -> bool {
        matches!(self, Source::Reader { used: true, .. }) && !self.rereadable()
    }

    /// Start reading from the beginning.
    pub fn open(&mut self) -> Result<Opened> {
        match self {
            Source::Memory(_) => Ok(Opened::Memory(0)),
            Source::File(p) => {
                File::open(&*p).map(Opened::File).map_err(|e| Error::Io(format!("attachment {}: {e}", p.display())))
            }
            Source::Reader { reader, used } => {
                if *used {
                    if !reader.can_rewind() {
                        return Err(Error::InvalidArgument(
                            "an attachment from a read callback with no rewind callback cannot be read twice".into(),
                        ));
                    }
                    reader.rewind().map_err(|e| Error::Io(format!("the attachment's rewind callback failed: {e}")))?;
                }
                *used = true;
                Ok(Opened::Reader)
            }
        }
    }
}

/// A source being read.
pub enum Opened {
    Memory(usize),
    File(File),
    Reader,
}

impl Opened {
    /// Up to `buf.len()` bytes, 0 at the end.
    pub fn read(&mut self, source: &mut Source, buf: &mut [u8]) -> std::result::Result<usize, String> {
        match (self, source) {
            (Opened::Memory(off), Source::Memory(data)) => {
                let n = buf.len().min(data.len() - *off);
                buf[..n].copy_from_slice(&data[*off..*off + n]);
                *off += n;
                Ok(n)
            }
            (Opened::File(f), Source::File(p)) => loop {
                match f.read(buf) {
                    Ok(n) => break Ok(n),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => break Err(format!("attachment {}: {e}", p.display())),
                }
            },
            (Opened::Reader, Source::Reader { reader, .. }) => {
                let n = reader.read(buf)?;
                if n > buf.len() {
                    return Err(format!("the attachment callback reported {n} bytes for a {}-byte buffer", buf.len()));
                }
                Ok(n)
            }
            _ => Err("internal error: a part read from another source".into()),
        }
    }
}
