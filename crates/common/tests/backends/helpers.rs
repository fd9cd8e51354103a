//! Finding the test servers.

/// The address in `var`, or `None` (with a loud warning) when unset outside CI.
pub fn server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "{var} is not set: under CI=true every server test must run (use scripts/test.sh)"
            )
        }
        _ => {
            eprintln!("WARNING: {var} is not set; skipping this test (scripts/test.sh sets it)");
            None
        }
    }
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
