//! trustroot-ceremony: the signing side of a TUF trust root.
