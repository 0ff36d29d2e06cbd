//! Capture files: the raw bytes from the device with the host's receive time, so a recording
//! can be re-processed later (a better calibration, another window, plots, exports) and its
//! readings still carry real UTC timestamps.
//!
//! The format is documented in `capture.md` beside this file. It is append-only and made of
//! self-checking records, so a power cut mid-write costs at most the records the OS had not yet
//! written, and readers stop at a torn or corrupt tail with a warning instead of failing.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// First bytes of every capture: the format name and its version, as a text line.
pub const MAGIC: &[u8] = b"ct-capture 1\n";

/// Record header: kind (1), payload length (4), receive time (8).
const HEAD: usize = 13;
/// Record trailer: CRC-32 of header and payload.
const TAIL: usize = 4;
/// Larger payloads are not written, so a larger length field means corruption (and bounds
/// what a reader allocates).
pub const MAX_PAYLOAD: usize = 1 << 20;

/// CRC-32/ISO-HDLC (the zlib/PNG CRC), slice-by-16 tables: records are checked at several GB/s.
const CRC: crc::Crc<u32, crc::Table<16>> = crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISO_HDLC);

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bytes as read from the port, in order.
    Bytes,
    /// The port failed (unplugged); the payload is the error text.
    Lost,
    /// The port is open again after `Lost`.
    Back,
    /// A recording session starts (at the start of the file, or appended later): UTF-8
    /// `key=value` lines (`ct-read`, `source`, `baud`). Bytes before and after it are not
    /// one continuous stream.
    Session,
}

impl Kind {
    fn code(self) -> u8 {
        match self {
            Kind::Bytes => 0,
            Kind::Lost => 1,
            Kind::Back => 2,
            Kind::Session => 3,
        }
    }

    fn from_code(c: u8) -> Option<Kind> {
        Some(match c {
            0 => Kind::Bytes,
            1 => Kind::Lost,
            2 => Kind::Back,
            3 => Kind::Session,
            _ => return None,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a ct-capture file (it does not start with `ct-capture 1`)")]
    NotACapture { path: PathBuf },
    #[error("{path}: capture format version {version} is newer than this ct-read understands (1)")]
    Version { path: PathBuf, version: String },
}

/// Unix time in nanoseconds.
pub fn unix_ns(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i64,
        Err(e) => -(e.duration().as_nanos() as i64),
    }
}

/// The time of a unix-nanosecond stamp.
pub fn from_unix_ns(ns: i64) -> SystemTime {
    if ns >= 0 {
        UNIX_EPOCH + Duration::from_nanos(ns as u64)
    } else {
        UNIX_EPOCH - Duration::from_nanos(ns.unsigned_abs())
    }
}

/// Whether the file at `path` starts like a capture (any version).
pub fn is_capture(path: &Path) -> bool {
    let mut head = [0u8; 11];
    File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == MAGIC[..11]
}

/// Checks the magic line at the start of `r`; returns its length.
fn check_magic(r: &mut impl Read, path: &Path) -> Result<(), CaptureError> {
    let mut head = [0u8; MAGIC.len()];
    let io = |source| CaptureError::Io { path: path.to_owned(), source };
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(CaptureError::NotACapture { path: path.to_owned() })
        }
        Err(e) => return Err(io(e)),
    }
    if head == MAGIC {
        return Ok(());
    }
    if head[..11] == MAGIC[..11] {
        let version = String::from_utf8_lossy(&head[11..]).trim().to_string();
        return Err(CaptureError::Version { path: path.to_owned(), version });
    }
    Err(CaptureError::NotACapture { path: path.to_owned() })
}

fn encode(kind: Kind, unix_ns: i64, payload: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.push(kind.code());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&unix_ns.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = CRC.checksum(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Appends records to a capture file.
pub struct CaptureWriter {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    last_sync: Instant,
}

/// How often written records are forced to disk: the most a power cut can cost.
const SYNC_EVERY: Duration = Duration::from_secs(1);

impl CaptureWriter {
    /// Opens `path` for appending (creating it with the magic line), and starts a session
    /// with `meta` lines. An existing file must be a capture; a torn tail left by a crash is
    /// cut off first, and how many bytes were cut is returned.
    pub fn open(path: &Path, meta: &[(&str, String)]) -> Result<(Self, Option<u64>), CaptureError> {
        let io = |source| CaptureError::Io { path: path.to_owned(), source };
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut cut = None;
        if len == 0 {
            file.write_all(MAGIC).map_err(io)?;
        } else {
            let mut reader = CaptureReader::from_file(path, file.try_clone().map_err(io)?)?;
            while reader.next_record().map_err(io)?.is_some() {}
            let good = reader.offset();
            if good < len {
                cut = Some(len - good);
                file.set_len(good).map_err(io)?;
            }
            file.seek(SeekFrom::Start(good)).map_err(io)?;
        }
        let mut w = CaptureWriter { path: path.to_owned(), file, buf: Vec::new(), last_sync: Instant::now() };
        let text: String = meta.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        w.record(Kind::Session, SystemTime::now(), text.as_bytes())?;
        w.sync()?;
        Ok((w, cut))
    }

    /// Appends one record with a single write; forces it to disk if the last sync is over a
    /// second old.
    pub fn record(&mut self, kind: Kind, at: SystemTime, payload: &[u8]) -> Result<(), CaptureError> {
        for chunk in payload.chunks(MAX_PAYLOAD).chain(payload.is_empty().then_some(&[][..])) {
            self.buf.clear();
            encode(kind, unix_ns(at), chunk, &mut self.buf);
            self.file.write_all(&self.buf).map_err(|source| CaptureError::Io { path: self.path.clone(), source })?;
        }
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    /// Forces written records to disk.
    pub fn sync(&mut self) -> Result<(), CaptureError> {
        self.last_sync = Instant::now();
        self.file.sync_data().map_err(|source| CaptureError::Io { path: self.path.clone(), source })
    }
}

/// One record read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub kind: Kind,
    /// Host receive time, unix nanoseconds.
    pub unix_ns: i64,
    pub payload: &'a [u8],
    /// Byte offset of the record in the file.
    pub offset: u64,
}

/// Reads records in order. Stops at the first torn or corrupt record: everything from there
/// on is the tail a crash left, described by [`CaptureReader::tail_warning`].
pub struct CaptureReader {
    path: PathBuf,
    reader: BufReader<File>,
    /// Offset of the next record.
    offset: u64,
    len: u64,
    buf: Vec<u8>,
    tail: Option<String>,
}

impl CaptureReader {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let file = File::open(path).map_err(|source| CaptureError::Io { path: path.to_owned(), source })?;
        Self::from_file(path, file)
    }

    fn from_file(path: &Path, mut file: File) -> Result<Self, CaptureError> {
        let io = |source| CaptureError::Io { path: path.to_owned(), source };
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut reader = BufReader::with_capacity(1 << 20, file);
        check_magic(&mut reader, path)?;
        Ok(CaptureReader {
            path: path.to_owned(),
            reader,
            offset: MAGIC.len() as u64,
            len,
            buf: Vec::with_capacity(8192),
            tail: None,
        })
    }

    /// File size when opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len <= MAGIC.len() as u64
    }

    /// Offset just past the last good record read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Why reading stopped before the end of the file, naming the file and offset.
    pub fn tail_warning(&self) -> Option<&str> {
        self.tail.as_deref()
    }

    /// The next good record, or `None` at the end or at a torn/corrupt tail. Only a failing
    /// read of the file itself is an error.
    pub fn next_record(&mut self) -> std::io::Result<Option<Record<'_>>> {
        if self.tail.is_some() {
            return Ok(None);
        }
        let at = self.offset;
        self.buf.resize(HEAD, 0);
        let got = read_full(&mut self.reader, &mut self.buf[..HEAD])?;
        if got == 0 {
            return Ok(None);
        }
        if got < HEAD {
            return Ok(self.torn(at, "a truncated record header"));
        }
        let kind = self.buf[0];
        let n = u32::from_le_bytes(self.buf[1..5].try_into().expect("4 bytes")) as usize;
        if n > MAX_PAYLOAD || Kind::from_code(kind).is_none() {
            return Ok(self.torn(at, "a corrupt record header"));
        }
        self.buf.resize(HEAD + n + TAIL, 0);
        let got = read_full(&mut self.reader, &mut self.buf[HEAD..])?;
        if got < n + TAIL {
            return Ok(self.torn(at, "a truncated record"));
        }
        let want = u32::from_le_bytes(self.buf[HEAD + n..].try_into().expect("4 bytes"));
        if CRC.checksum(&self.buf[..HEAD + n]) != want {
            return Ok(self.torn(at, "a record whose checksum does not match"));
        }
        self.offset += (HEAD + n + TAIL) as u64;
        Ok(Some(Record {
            kind: Kind::from_code(kind).expect("checked"),
            unix_ns: i64::from_le_bytes(self.buf[5..13].try_into().expect("8 bytes")),
            payload: &self.buf[HEAD..HEAD + n],
            offset: at,
        }))
    }

    fn torn(&mut self, at: u64, what: &str) -> Option<Record<'_>> {
        self.tail = Some(format!(
            "{}: ignoring the last {} bytes from offset {at}: {what} (left by an interrupted recording)",
            self.path.display(),
            self.len.saturating_sub(at)
        ));
        None
    }
}

/// Reads until `buf` is full or the file ends; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Writes a whole capture in one go (tests, benches, and converting a stream): a session
/// record, then `chunks` of `(unix_ns, bytes)`.
pub fn write_capture<B: AsRef<[u8]>>(
    path: &Path,
    meta: &[(&str, String)],
    chunks: impl IntoIterator<Item = (i64, B)>,
) -> Result<(), CaptureError> {
    let io = |source| CaptureError::Io { path: path.to_owned(), source };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, File::create(path).map_err(io)?);
    let mut buf = Vec::new();
    buf.extend_from_slice(MAGIC);
    let text: String = meta.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let first = chunks.into_iter();
    let mut started = false;
    for (ns, bytes) in first {
        if !started {
            encode(Kind::Session, ns, text.as_bytes(), &mut buf);
            started = true;
        }
        for c in bytes.as_ref().chunks(MAX_PAYLOAD) {
            encode(Kind::Bytes, ns, c, &mut buf);
        }
        w.write_all(&buf).map_err(io)?;
        buf.clear();
    }
    if !started {
        encode(Kind::Session, unix_ns(SystemTime::now()), text.as_bytes(), &mut buf);
    }
    w.write_all(&buf).map_err(io)?;
    w.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Records = Vec<(Kind, i64, Vec<u8>)>;

    fn records(path: &Path) -> (Records, Option<String>) {
        let mut r = CaptureReader::open(path).unwrap();
        let mut v = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            v.push((rec.kind, rec.unix_ns, rec.payload.to_vec()));
        }
        (v, r.tail_warning().map(str::to_owned))
    }

    #[test]
    fn round_trip_and_torn_tails_are_skipped_then_cut_on_append() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.ctcap");
        {
            let (mut w, cut) = CaptureWriter::open(&p, &[("source", "test".into())]).unwrap();
            assert_eq!(cut, None);
            w.record(Kind::Bytes, from_unix_ns(1_000), b"\x00abc").unwrap();
            w.record(Kind::Lost, from_unix_ns(2_000), b"gone").unwrap();
            w.record(Kind::Back, from_unix_ns(3_000), b"").unwrap();
        }
        let (v, tail) = records(&p);
        assert_eq!(tail, None);
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].0, Kind::Session);
        assert_eq!(v[0].2, b"source=test\n");
        assert_eq!(v[1], (Kind::Bytes, 1_000, b"\x00abc".to_vec()));
        assert_eq!(v[3], (Kind::Back, 3_000, vec![]));
        let whole = std::fs::read(&p).unwrap();

        // Every possible truncation reads back as a prefix of the records, never an error.
        for cut in MAGIC.len()..whole.len() {
            std::fs::write(&p, &whole[..cut]).unwrap();
            let (v2, tail) = records(&p);
            assert!(v2.len() < 4 && v[..v2.len()] == v2[..], "cut at {cut}");
            if let Some(t) = tail {
                assert!(t.contains("ignoring the last"), "{t}");
            }
        }

        // A flipped bit in the last record: reading stops before it, with a warning naming
        // the file and the offset.
        let mut bad = whole.clone();
        let n = bad.len();
        bad[n - 6] ^= 0x10;
        std::fs::write(&p, &bad).unwrap();
        let (v2, tail) = records(&p);
        assert_eq!(v2.len(), 3);
        let tail = tail.unwrap();
        assert!(tail.contains("c.ctcap: ignoring the last 17 bytes from offset"), "{tail}");
        assert!(tail.contains("checksum"), "{tail}");

        // Appending to it cuts the bad tail and carries on.
        let (mut w, cut) = CaptureWriter::open(&p, &[]).unwrap();
        assert_eq!(cut, Some(17));
        w.record(Kind::Bytes, from_unix_ns(4_000), b"x").unwrap();
        drop(w);
        let (v3, tail) = records(&p);
        assert_eq!(tail, None);
        assert_eq!(v3.len(), 5);
        assert_eq!(v3[3].0, Kind::Session);
        assert_eq!(v3[4], (Kind::Bytes, 4_000, b"x".to_vec()));
    }

    #[test]
    fn foreign_files_and_newer_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        std::fs::write(&p, b"code\n1\n2\n").unwrap();
        assert!(!is_capture(&p));
        let e = CaptureReader::open(&p).err().unwrap().to_string();
        assert!(e.contains("x.bin: not a ct-capture file"), "{e}");
        std::fs::write(&p, b"ct-capture 2\n").unwrap();
        assert!(is_capture(&p));
        let e = CaptureReader::open(&p).err().unwrap().to_string();
        assert!(e.contains("version 2 is newer"), "{e}");
        assert!(CaptureWriter::open(&p, &[]).is_err());
    }
}
