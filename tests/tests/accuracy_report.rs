//! Keeps `tests/ACCURACY.md` in step with the code, the table and the goldens (a snapshot with
//! an overwrite switch): it is regenerated here and must match the committed file.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test -p ct-golden --test accuracy_report`.

use ct_core::calibration::{Calibration, DEFAULT_TABLE_NAME};
use ct_golden::manifest;
use ct_golden::report::{evaluate, markdown};

#[test]
fn committed_accuracy_report_is_current() {
    let results = evaluate(&Calibration::builtin(), &manifest().unwrap()).unwrap();
    let report = markdown(&results, DEFAULT_TABLE_NAME);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ACCURACY.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &report).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == report,
        "tests/ACCURACY.md is stale: run `UPDATE_GOLDEN=1 cargo test -p ct-golden --test accuracy_report`"
    );
}
