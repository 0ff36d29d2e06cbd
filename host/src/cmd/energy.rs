//! `ct-read energy --state FILE [--set KWH]`: shows the lifetime energy a state file holds, or
//! sets it explicitly (a new meter, a total carried over from another one, a reset to 0).
//! Setting is the only way the total goes down: a live session never lowers it.

use std::io::Write;
use std::path::PathBuf;

use super::Error;
use crate::lifetime::{read_state, write_state, StateError, StateLock};
use crate::notice::Notice;

#[derive(Debug, Clone)]
pub struct EnergyOptions {
    pub state: PathBuf,
    /// Replace the total with this many kWh; without it, print the total.
    pub set: Option<f64>,
}

/// Prints the total in kWh to `out` (`set` absent) or replaces it. A state file that does not
/// exist is an error when showing (a mistyped path must not read as 0 kWh).
/// Setting replaces a file that cannot be read too: that is the way out of a corrupt one.
pub fn run(opts: &EnergyOptions, out: &mut dyn Write, notice: &mut dyn FnMut(&Notice)) -> Result<(), Error> {
    match opts.set {
        Some(kwh) => {
            // A session running on the file would overwrite the new total with its own.
            let _lock = StateLock::take(&opts.state)?;
            let was = read_state(&opts.state).ok().flatten();
            write_state(&opts.state, kwh)?;
            notice(&Notice::EnergySet { path: opts.state.clone(), was, kwh });
        }
        None => {
            let kwh = read_state(&opts.state)?.ok_or_else(|| StateError::Io {
                path: opts.state.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such state file"),
            })?;
            writeln!(out, "{kwh} kWh").map_err(Error::Output)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_shows_the_total() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("e.json");
        let mut notices = Vec::new();
        let show = EnergyOptions { state: state.clone(), set: None };
        let e = run(&show, &mut Vec::new(), &mut |n| notices.push(n.clone())).unwrap_err().to_string();
        assert!(e.contains("e.json") && e.contains("no such state file"), "{e}");
        run(&EnergyOptions { set: Some(12.5), ..show.clone() }, &mut Vec::new(), &mut |n| notices.push(n.clone()))
            .unwrap();
        run(&EnergyOptions { set: Some(0.0), ..show.clone() }, &mut Vec::new(), &mut |n| notices.push(n.clone()))
            .unwrap();
        assert_eq!(notices[1], Notice::EnergySet { path: state.clone(), was: Some(12.5), kwh: 0.0 });
        let mut out = Vec::new();
        run(&show, &mut out, &mut |_| {}).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "0 kWh\n");
        std::fs::write(&state, "garbage").unwrap();
        assert!(run(&show, &mut Vec::new(), &mut |_| {}).is_err());
        run(&EnergyOptions { set: Some(3.0), ..show.clone() }, &mut Vec::new(), &mut |_| {}).unwrap();
        assert_eq!(read_state(&state).unwrap(), Some(3.0));
        let e = run(&EnergyOptions { set: Some(-1.0), ..show.clone() }, &mut Vec::new(), &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("finite number of kWh >= 0"), "{e}");
        // Not while a session holds the file: it would overwrite the new total.
        let session = StateLock::take(&state).unwrap();
        let e = run(&EnergyOptions { set: Some(1.0), ..show.clone() }, &mut Vec::new(), &mut |_| {}).unwrap_err();
        assert!(matches!(e, Error::State(StateError::Locked { .. })), "{e}");
        assert_eq!(read_state(&state).unwrap(), Some(3.0));
        drop(session);
        let mut out = Vec::new();
        run(&show, &mut out, &mut |_| {}).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "3 kWh\n", "showing needs no lock");
    }
}
