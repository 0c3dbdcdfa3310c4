//! Writing a run's output folder: every file is written to a temporary name and
//! renamed into place, so a file that exists is complete.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file being written; [`AtomicFile::commit`] renames it into place.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
}

impl AtomicFile {
    /// Start writing `dest` (as `dest.partial` until committed).
    pub fn create(dest: &Path) -> io::Result<(AtomicFile, BufWriter<File>)> {
        let mut tmp = dest.as_os_str().to_owned();
        tmp.push(".partial");
        let tmp = PathBuf::from(tmp);
        let f = File::create(&tmp)?;
        Ok((
            AtomicFile {
                tmp,
                dest: dest.to_path_buf(),
            },
            BufWriter::with_capacity(1 << 16, f),
        ))
    }

    /// Move the finished file into place.
    pub fn commit(self) -> io::Result<()> {
        fs::rename(&self.tmp, &self.dest)
    }
}

/// Write `bytes` to `dest` atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let (f, mut w) = AtomicFile::create(dest)?;
    w.write_all(bytes)?;
    w.flush()?;
    drop(w);
    f.commit()
}
