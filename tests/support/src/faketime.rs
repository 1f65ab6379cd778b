//! Running one test of the current test binary again under faketime: for tests of code
//! that reads the wall clock itself (tough's expiry checks), against fixtures that are
//! expired by today's clock.

/// Set in the environment of the run under faketime.
const UNDER_FAKETIME: &str = "TRUSTROOT_TEST_UNDER_FAKETIME";

/// When this process is not the run under faketime: runs the test `test` (its full name
/// as the harness lists it) of this binary again under faketime at `time`
/// ("YYYY-MM-DD hh:mm:ss", UTC), asserts it passed, and returns false (the caller returns).
/// Inside that run: returns true, and the caller goes on with the test's body.
pub fn under_faketime(test: &str, time: &str) -> bool {
    if std::env::var_os(UNDER_FAKETIME).is_some() {
        return true;
    }
    let out = std::process::Command::new("faketime")
        .env("TZ", "UTC")
        .env(UNDER_FAKETIME, "1")
        .arg(time)
        .arg(std::env::current_exe().expect("the test binary"))
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .output()
        .expect("faketime is installed (the Debian package 'faketime'; scripts/test.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the test ran under faketime: {text}");
    false
}
