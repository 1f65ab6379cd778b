//! Which `spec_version` values clients accept: `1.Y` or `1.Y.Z` with decimal parts, as
//! python-tuf and tuf-js check it (tuf-on-ci writes "1.0"; python-tuf writes "1.0.31").

/// True when `spec` is `1.Y` or `1.Y.Z`.
pub fn supported(spec: &str) -> bool {
    let parts: Vec<&str> = spec.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    parts.first() == Some(&"1") && numeric && matches!(parts.len(), 2 | 3)
}

#[cfg(test)]
mod tests {
    use super::supported;

    #[test]
    fn one_dot_y_and_one_dot_y_dot_z_are_accepted() {
        for spec in ["1.0", "1.0.31", "1.2", "1.0.0"] {
            assert!(supported(spec), "{spec}");
        }
    }

    #[test]
    fn other_majors_and_malformed_versions_are_refused() {
        for spec in ["1", "2.0.0", "1.0.x", "", "1.", "1..0", "1.0.0.0", "01.0", " 1.0", "1.0-rc1"] {
            assert!(!supported(spec), "{spec}");
        }
    }
}
