//! Capture files: the raw bytes from the device with the host's receive time, so a recording
//! can be re-processed later (a better calibration, another window, plots, exports) and its
//! readings still carry real UTC timestamps.
//!
//! The format is documented in `capture.md` beside this file. It is append-only and made of
//! self-checking records, so a power cut mid-write costs at most the records the OS had not yet
//! written. A corrupt record (a flipped bit on disk, a bad sector) costs that record only:
//! readers skip it with a warning and resynchronise on the next valid one (version 2 marks
//! every record's start for that; version 1 files are searched byte by byte), and only what
//! follows the last valid record is a torn tail.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// First bytes of every capture written now: the format name and its version, as a text line.
pub const MAGIC: &[u8] = b"ct-capture 2\n";
/// First bytes of a version 1 capture (no record marker), still read and appended to.
pub const MAGIC_V1: &[u8] = b"ct-capture 1\n";
/// The magic line without its version (both lines are this, a digit and a newline).
const MAGIC_NAME: &[u8] = b"ct-capture ";

/// Version 2: the first bytes of every record, so that a reader that met a corrupt record can
/// find the next one without trusting the corrupt one's length. Chosen to be rare in the
/// payloads (not text, not a COBS delimiter pattern); one that occurs in a payload by chance
/// costs a CRC check, not a false record.
pub const RECORD_MARK: [u8; 4] = [0xC7, 0x1D, 0xA9, 0x5E];

/// Record header after the marker: kind (1), payload length (4), receive time (8).
const HEAD: usize = 13;
/// Record trailer: CRC-32 of header and payload.
const TAIL: usize = 4;
/// Larger payloads are not written, so a larger length field means corruption (and bounds
/// what a reader allocates).
pub const MAX_PAYLOAD: usize = 1 << 20;
/// Bytes searched per read while resynchronising after a corrupt record.
const SCAN_BLOCK: usize = 1 << 20;
/// At most this many damaged spans are described one by one in [`CaptureReader::warning`].
const WARN_SPANS: usize = 8;

/// CRC-32/ISO-HDLC (the zlib/PNG CRC), slice-by-16 tables: records are checked at several GB/s.
const CRC: crc::Crc<u32, crc::Table<16>> = crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISO_HDLC);

/// A capture format version this build reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Records back to back: a corrupt record is skipped by searching every later offset for
    /// a record whose header is plausible and whose CRC matches.
    V1,
    /// Every record starts with [`RECORD_MARK`].
    V2,
}

impl Version {
    /// Bytes before a record's header.
    fn mark_len(self) -> usize {
        match self {
            Version::V1 => 0,
            Version::V2 => RECORD_MARK.len(),
        }
    }

    /// The magic line that starts a file of this version.
    pub fn magic(self) -> &'static [u8] {
        match self {
            Version::V1 => MAGIC_V1,
            Version::V2 => MAGIC,
        }
    }
}

/// The `key=value` lines of the first session record of the capture at `path` (the options
/// it was recorded with: `ct-read`, `source`, `baud`, `node`); empty when the file starts
/// otherwise. An error when the file is not a capture.
pub fn session_meta(path: &Path) -> Result<Vec<(String, String)>, CaptureError> {
    let mut reader = CaptureReader::open(path)?;
    let io = |source| CaptureError::Io { path: path.to_owned(), source };
    Ok(match reader.next_record().map_err(io)? {
        Some(rec) if rec.kind == Kind::Session => String::from_utf8_lossy(rec.payload)
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect(),
        _ => Vec::new(),
    })
}

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
    #[error("{path}: not a ct-capture file (it does not start with `ct-capture 1` or `ct-capture 2`)")]
    NotACapture { path: PathBuf },
    #[error("{path}: capture format version {version} is newer than this ct-read understands (1 and 2)")]
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
    File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == MAGIC_NAME
}

/// Checks the magic line at the start of `r`; returns the version it names.
fn check_magic(r: &mut impl Read, path: &Path) -> Result<Version, CaptureError> {
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
        return Ok(Version::V2);
    }
    if head == MAGIC_V1 {
        return Ok(Version::V1);
    }
    if head[..MAGIC_NAME.len()] == *MAGIC_NAME {
        let version = String::from_utf8_lossy(&head[MAGIC_NAME.len()..]).trim().to_string();
        return Err(CaptureError::Version { path: path.to_owned(), version });
    }
    Err(CaptureError::NotACapture { path: path.to_owned() })
}

fn encode(version: Version, kind: Kind, unix_ns: i64, payload: &[u8], out: &mut Vec<u8>) {
    if version == Version::V2 {
        out.extend_from_slice(&RECORD_MARK);
    }
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
    version: Version,
    buf: Vec<u8>,
    last_sync: Instant,
}

/// How often written records are forced to disk: the most a power cut can cost.
const SYNC_EVERY: Duration = Duration::from_secs(1);

impl CaptureWriter {
    /// Opens `path` for appending (creating it, as version 2, with the magic line), and starts
    /// a session with `meta` lines. An existing file must be a capture, and keeps its version.
    /// A torn tail (whatever follows the last valid record) is cut off first, and how many
    /// bytes were cut is returned; corrupt records before the last valid one stay, for readers
    /// to skip, so no valid record is ever removed.
    pub fn open(path: &Path, meta: &[(&str, String)]) -> Result<(Self, Option<u64>), CaptureError> {
        let io = |source| CaptureError::Io { path: path.to_owned(), source };
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut cut = None;
        let version = if len == 0 {
            file.write_all(MAGIC).map_err(io)?;
            Version::V2
        } else {
            let mut reader = CaptureReader::from_file(path, file.try_clone().map_err(io)?)?;
            while reader.next_record().map_err(io)?.is_some() {}
            let good = reader.offset();
            if good < len {
                cut = Some(len - good);
                file.set_len(good).map_err(io)?;
            }
            file.seek(SeekFrom::Start(good)).map_err(io)?;
            reader.version()
        };
        let mut w = CaptureWriter { path: path.to_owned(), file, version, buf: Vec::new(), last_sync: Instant::now() };
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
            encode(self.version, kind, unix_ns(at), chunk, &mut self.buf);
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

/// Bytes a reader skipped: a corrupt record (valid records follow) or the torn tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damage {
    /// Where the skipped bytes start.
    pub offset: u64,
    /// How many bytes were skipped.
    pub len: u64,
    /// What was wrong with the record at `offset`.
    pub what: &'static str,
    /// Whether no valid record follows (the tail an interrupted recording leaves).
    pub tail: bool,
}

/// What the record at the reading position turned out to be.
enum Parsed {
    End,
    Record { kind: Kind, unix_ns: i64, n: usize },
    Bad(&'static str),
}

/// Reads records in order. A corrupt record is skipped, and reading resumes at the next valid
/// one; what follows the last valid record is the tail a crash left. Both are described by
/// [`CaptureReader::warning`].
pub struct CaptureReader {
    path: PathBuf,
    reader: BufReader<File>,
    version: Version,
    /// Offset of the next record to try.
    pos: u64,
    /// Offset just past the last valid record.
    good_end: u64,
    len: u64,
    buf: Vec<u8>,
    damage: Vec<Damage>,
    done: bool,
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
        let version = check_magic(&mut reader, path)?;
        Ok(CaptureReader {
            path: path.to_owned(),
            reader,
            version,
            pos: MAGIC.len() as u64,
            good_end: MAGIC.len() as u64,
            len,
            buf: Vec::with_capacity(8192),
            damage: Vec::new(),
            done: false,
        })
    }

    /// The file's format version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// File size when opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len <= MAGIC.len() as u64
    }

    /// Offset just past the last valid record read.
    pub fn offset(&self) -> u64 {
        self.good_end
    }

    /// The bytes skipped so far, in file order.
    pub fn damage(&self) -> &[Damage] {
        &self.damage
    }

    /// What was skipped, one line per span naming the file, offset and length (the first few
    /// spans; a summary of the rest), or `None` if nothing was.
    pub fn warning(&self) -> Option<String> {
        if self.damage.is_empty() {
            return None;
        }
        let name = self.path.display();
        let mut lines: Vec<String> = Vec::new();
        let (corrupt, tail): (Vec<&Damage>, Vec<&Damage>) = self.damage.iter().partition(|d| !d.tail);
        for d in corrupt.iter().take(WARN_SPANS) {
            lines.push(format!(
                "{name}: skipped {} bytes at offset {}: {} (a corrupt record; reading resumed at offset {})",
                d.len,
                d.offset,
                d.what,
                d.offset + d.len
            ));
        }
        if corrupt.len() > WARN_SPANS {
            let rest = &corrupt[WARN_SPANS..];
            lines.push(format!(
                "{name}: skipped {} more corrupt spans ({} bytes) up to offset {}",
                rest.len(),
                rest.iter().map(|d| d.len).sum::<u64>(),
                rest.last().map_or(0, |d| d.offset + d.len)
            ));
        }
        for d in tail {
            lines.push(format!(
                "{name}: ignoring the last {} bytes from offset {}: {} (left by an interrupted recording)",
                d.len, d.offset, d.what
            ));
        }
        Some(lines.join("\n"))
    }

    /// The next valid record, or `None` at the end of the file. Corrupt records on the way are
    /// skipped (see [`CaptureReader::damage`]). Only a failing read of the file itself is an
    /// error.
    pub fn next_record(&mut self) -> std::io::Result<Option<Record<'_>>> {
        if self.done {
            return Ok(None);
        }
        let (kind, unix_ns, n, at) = loop {
            let at = self.pos;
            match self.parse()? {
                Parsed::End => {
                    self.done = true;
                    return Ok(None);
                }
                Parsed::Record { kind, unix_ns, n } => break (kind, unix_ns, n, at),
                Parsed::Bad(what) => match self.find_record(at + 1)? {
                    Some(next) => {
                        self.damage.push(Damage { offset: at, len: next - at, what, tail: false });
                        self.reader.seek(SeekFrom::Start(next))?;
                        self.pos = next;
                    }
                    None => {
                        let end = self.reader.get_mut().seek(SeekFrom::End(0))?.max(self.len);
                        self.damage.push(Damage { offset: at, len: end.saturating_sub(at), what, tail: true });
                        self.done = true;
                        return Ok(None);
                    }
                },
            }
        };
        let start = self.version.mark_len() + HEAD;
        self.pos += (start + n + TAIL) as u64;
        self.good_end = self.pos;
        Ok(Some(Record { kind, unix_ns, payload: &self.buf[start..start + n], offset: at }))
    }

    /// Reads the record at the reading position into `buf`, and checks it.
    fn parse(&mut self) -> std::io::Result<Parsed> {
        let start = self.version.mark_len() + HEAD;
        self.buf.resize(start, 0);
        let got = read_full(&mut self.reader, &mut self.buf[..start])?;
        if got == 0 {
            return Ok(Parsed::End);
        }
        if got < start {
            return Ok(Parsed::Bad("a truncated record header"));
        }
        let Some((kind, n)) = header(self.version, &self.buf) else {
            return Ok(Parsed::Bad("a corrupt record header"));
        };
        self.buf.resize(start + n + TAIL, 0);
        let got = read_full(&mut self.reader, &mut self.buf[start..])?;
        if got < n + TAIL {
            return Ok(Parsed::Bad("a truncated record"));
        }
        if !crc_ok(self.version, &self.buf) {
            return Ok(Parsed::Bad("a record whose checksum does not match"));
        }
        let unix_ns = i64::from_le_bytes(self.buf[start - 8..start].try_into().expect("8 bytes"));
        Ok(Parsed::Record { kind, unix_ns, n })
    }

    /// The offset of the first valid record at or after `from`, if any: candidates are the
    /// record marks (version 2) or every offset with a plausible header (version 1), and a
    /// candidate is taken only if its whole record is there and its CRC matches. Reads the file
    /// a block at a time, so memory stays bounded whatever the damage.
    fn find_record(&mut self, from: u64) -> std::io::Result<Option<u64>> {
        let version = self.version;
        let head = version.mark_len() + HEAD;
        let file = self.reader.get_mut();
        let mut block = vec![0u8; SCAN_BLOCK];
        let mut scratch = Vec::new();
        let mut s = from;
        loop {
            file.seek(SeekFrom::Start(s))?;
            let got = read_full(file, &mut block)?;
            let blk = &block[..got];
            let last = got < SCAN_BLOCK;
            // Offsets tried in this block; the rest (a header that may straddle the block's end)
            // starts the next one.
            let limit = if last { got } else { got - head };
            let mut i = 0;
            while i < limit {
                let p = match version {
                    Version::V2 => {
                        match memchr::memmem::find(&blk[i..(limit + RECORD_MARK.len() - 1).min(got)], &RECORD_MARK) {
                            Some(k) => i + k,
                            None => break,
                        }
                    }
                    Version::V1 => i,
                };
                i = p + 1;
                if p + head > got {
                    // A header past the end of the file.
                    continue;
                }
                let Some((_, n)) = header(version, &blk[p..]) else { continue };
                let size = head + n + TAIL;
                let ok = if p + size <= got {
                    crc_ok(version, &blk[p..p + size])
                } else {
                    scratch.resize(size, 0);
                    file.seek(SeekFrom::Start(s + p as u64))?;
                    read_full(file, &mut scratch)? == size && crc_ok(version, &scratch)
                };
                if ok {
                    return Ok(Some(s + p as u64));
                }
            }
            if last {
                return Ok(None);
            }
            s += limit as u64;
        }
    }
}

/// The kind and payload length of a record starting at `rec[0]` (its marker, in version 2), if
/// its header is plausible: the marker, a known kind, a payload within [`MAX_PAYLOAD`].
fn header(version: Version, rec: &[u8]) -> Option<(Kind, usize)> {
    let m = version.mark_len();
    if version == Version::V2 && rec[..m] != RECORD_MARK {
        return None;
    }
    let kind = Kind::from_code(rec[m])?;
    let n = u32::from_le_bytes(rec[m + 1..m + 5].try_into().expect("4 bytes")) as usize;
    (n <= MAX_PAYLOAD).then_some((kind, n))
}

/// Whether `rec`, one whole record, ends in the CRC of its header and payload.
fn crc_ok(version: Version, rec: &[u8]) -> bool {
    let body = &rec[version.mark_len()..rec.len() - TAIL];
    let want = u32::from_le_bytes(rec[rec.len() - TAIL..].try_into().expect("4 bytes"));
    CRC.checksum(body) == want
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
            encode(Version::V2, Kind::Session, ns, text.as_bytes(), &mut buf);
            started = true;
        }
        for c in bytes.as_ref().chunks(MAX_PAYLOAD) {
            encode(Version::V2, Kind::Bytes, ns, c, &mut buf);
        }
        w.write_all(&buf).map_err(io)?;
        buf.clear();
    }
    if !started {
        encode(Version::V2, Kind::Session, unix_ns(SystemTime::now()), text.as_bytes(), &mut buf);
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
        (v, r.warning())
    }

    /// A capture's first session record gives its options back; a file that is not a capture
    /// is refused as such.
    #[test]
    fn session_meta_reads_the_first_session() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.ctcap");
        let (w, _) = CaptureWriter::open(&p, &[("source", "test".into()), ("node", "kitchen".into())]).unwrap();
        drop(w);
        let (w, _) = CaptureWriter::open(&p, &[("node", "garage".into())]).unwrap();
        drop(w);
        let meta = session_meta(&p).unwrap();
        assert_eq!(meta, [("source".to_string(), "test".to_string()), ("node".to_string(), "kitchen".to_string())]);
        let raw = dir.path().join("raw.bin");
        std::fs::write(&raw, [0u8, 3, 1, 2, 0]).unwrap();
        assert!(matches!(session_meta(&raw), Err(CaptureError::NotACapture { .. })));
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
        assert!(whole.starts_with(b"ct-capture 2\n"));

        // Every possible truncation reads back as a prefix of the records, never an error.
        for cut in MAGIC.len()..whole.len() {
            std::fs::write(&p, &whole[..cut]).unwrap();
            let (v2, tail) = records(&p);
            assert!(v2.len() < 4 && v[..v2.len()] == v2[..], "cut at {cut}");
            if let Some(t) = tail {
                assert!(t.contains("ignoring the last"), "{t}");
            }
        }

        // A flipped bit in the last record: no valid record follows it, so it is the torn
        // tail, with a warning naming the file and the offset.
        let mut bad = whole.clone();
        let n = bad.len();
        bad[n - 6] ^= 0x10;
        std::fs::write(&p, &bad).unwrap();
        let (v2, tail) = records(&p);
        assert_eq!(v2.len(), 3);
        let tail = tail.unwrap();
        assert!(tail.contains(&format!("c.ctcap: ignoring the last 21 bytes from offset {}", n - 21)), "{tail}");
        assert!(tail.contains("checksum"), "{tail}");

        // Appending to it cuts the bad tail and carries on.
        let (mut w, cut) = CaptureWriter::open(&p, &[]).unwrap();
        assert_eq!(cut, Some(21));
        w.record(Kind::Bytes, from_unix_ns(4_000), b"x").unwrap();
        drop(w);
        let (v3, tail) = records(&p);
        assert_eq!(tail, None);
        assert_eq!(v3.len(), 5);
        assert_eq!(v3[3].0, Kind::Session);
        assert_eq!(v3[4], (Kind::Bytes, 4_000, b"x".to_vec()));
    }

    /// A capture of `records` Bytes records of varied lengths in `version`; returns its bytes
    /// and each record's offset and size.
    fn capture_bytes(version: Version, records: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
        let mut out = version.magic().to_vec();
        let mut spans = Vec::new();
        for k in 0..records {
            let start = out.len();
            let payload: Vec<u8> = (0..40 + 7 * k).map(|i| (i * 31 + k) as u8).collect();
            encode(version, Kind::Bytes, 1_000 * k as i64, &payload, &mut out);
            spans.push((start, out.len() - start));
        }
        (out, spans)
    }

    /// One flipped bit anywhere in a record in the middle of a capture (marker, kind, length,
    /// time, payload or CRC; version 1 and 2) costs that record only: every later record is
    /// read, the skipped span is reported with its offset and length, and appending keeps
    /// every valid record.
    #[test]
    fn a_flipped_bit_mid_capture_costs_one_record_and_appending_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.ctcap");
        for version in [Version::V1, Version::V2] {
            let (whole, spans) = capture_bytes(version, 20);
            let (at, size) = spans[10];
            for bit in (0..size * 8).step_by(3) {
                let mut bad = whole.clone();
                bad[at + bit / 8] ^= 1 << (bit % 8);
                std::fs::write(&p, &bad).unwrap();
                let mut r = CaptureReader::open(&p).unwrap();
                let mut got = Vec::new();
                while let Some(rec) = r.next_record().unwrap() {
                    got.push(rec.unix_ns / 1_000);
                }
                let want: Vec<i64> = (0..20).filter(|&k| k != 10).collect();
                assert_eq!(got, want, "{version:?}, bit {bit}");
                let damage = Damage { offset: at as u64, len: size as u64, what: r.damage()[0].what, tail: false };
                assert_eq!(r.damage(), [damage], "{version:?}, bit {bit}");
                let warning = r.warning().unwrap();
                assert!(
                    warning.contains(&format!("c.ctcap: skipped {size} bytes at offset {at}: ")),
                    "{version:?}, bit {bit}: {warning}"
                );

                let (mut w, cut) = CaptureWriter::open(&p, &[]).unwrap();
                assert_eq!(cut, None, "{version:?}, bit {bit}: a valid record was cut");
                w.record(Kind::Bytes, from_unix_ns(99_000), b"more").unwrap();
                drop(w);
                let (v, _) = records(&p);
                assert_eq!(v.len(), 21, "{version:?}, bit {bit}");
                assert_eq!(v[19].0, Kind::Session);
                assert_eq!(v[20], (Kind::Bytes, 99_000, b"more".to_vec()));
                let appended = std::fs::read(&p).unwrap();
                assert_eq!(appended[..whole.len()], bad[..], "the file before the append is kept as it was");
                assert!(appended.starts_with(version.magic()), "appending keeps the file's version");
            }
        }
    }

    /// Garbage between records and a long run of zeros (what some file systems leave after
    /// a crash) are skipped as spans; only what follows the last valid record is the tail.
    #[test]
    fn garbage_spans_are_skipped_and_only_the_end_is_a_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.ctcap");
        for version in [Version::V1, Version::V2] {
            let (whole, spans) = capture_bytes(version, 6);
            let mut bytes = whole[..spans[3].0].to_vec();
            bytes.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
            bytes.extend_from_slice(&whole[spans[3].0..]);
            bytes.extend_from_slice(&[0u8; 70_000]);
            std::fs::write(&p, &bytes).unwrap();
            let mut r = CaptureReader::open(&p).unwrap();
            let mut n = 0;
            while r.next_record().unwrap().is_some() {
                n += 1;
            }
            assert_eq!(n, 6, "{version:?}");
            let d = r.damage();
            assert_eq!(d.len(), 2, "{version:?}: {d:?}");
            assert_eq!((d[0].offset, d[0].len, d[0].tail), (spans[3].0 as u64, 5000, false), "{version:?}");
            assert_eq!((d[1].len, d[1].tail), (70_000, true), "{version:?}");
            let (_, cut) = CaptureWriter::open(&p, &[]).unwrap();
            assert_eq!(cut, Some(70_000), "{version:?}");
        }
    }

    #[test]
    fn foreign_files_and_newer_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        std::fs::write(&p, b"code\n1\n2\n").unwrap();
        assert!(!is_capture(&p));
        let e = CaptureReader::open(&p).err().unwrap().to_string();
        assert!(e.contains("x.bin: not a ct-capture file"), "{e}");
        std::fs::write(&p, b"ct-capture 3\n").unwrap();
        assert!(is_capture(&p));
        let e = CaptureReader::open(&p).err().unwrap().to_string();
        assert!(e.contains("version 3 is newer"), "{e}");
        assert!(matches!(CaptureReader::open(&p), Err(CaptureError::Version { .. })));
        assert!(CaptureWriter::open(&p, &[]).is_err());
    }
}
