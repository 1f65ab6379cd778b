//! PKCS#11 tokens (YubiKeys, HSMs, SoftHSM2): their URIs, modules, PINs and calls. Every
//! message names the key reference (the URI, never secret) and what to do.

use std::path::PathBuf;

use trustroot_core::ErrorClass;

/// A PKCS#11 key could not be found, logged into or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The `pkcs11:` URI itself is malformed.
    #[error("{uri}: {problem}")]
    Uri { uri: String, problem: UriProblem },
    /// No module: neither `module-path=` nor `TRUSTROOT_PKCS11_MODULE`.
    #[error(
        "{uri}: no PKCS#11 module named: add module-path=/path/to/module.so to the URI's query, or set TRUSTROOT_PKCS11_MODULE"
    )]
    NoModule { uri: String },
    /// The module path does not load as a PKCS#11 module.
    #[error("{}: not a PKCS#11 module ({reason}); name the token's module (e.g. libykcs11.so, libsofthsm2.so)", module.display())]
    NotAModule { module: PathBuf, reason: String },
    /// The module has no token present in any slot.
    #[error("{uri}: no token is present in the module {} (is the YubiKey or HSM connected?)", module.display())]
    NoToken { uri: String, module: PathBuf },
    /// The module cannot list its slots: no reader (ykcs11 without pcscd or a YubiKey).
    #[error("{uri}: the module {} cannot reach a token ({code}): is the YubiKey or HSM connected, and pcscd running for a smart card?", module.display())]
    NoReader { uri: String, module: PathBuf, code: String },
    /// Tokens are present but none matches the URI.
    #[error("{uri}: no token matches; present: {}", tokens.join(", "))]
    NoMatchingToken { uri: String, tokens: Vec<String> },
    /// The URI matches more than one token.
    #[error("{uri}: matches {} tokens ({}); add token= or serial= to choose one", tokens.len(), tokens.join(", "))]
    TwoTokens { uri: String, tokens: Vec<String> },
    /// No private key matches; `others` names what did match (public keys, certificates).
    #[error("{uri}: {}", no_object(others))]
    NoObject { uri: String, others: Vec<String> },
    /// More than one private key matches.
    #[error("{uri}: matches {count} private keys; add object= or id= to choose one")]
    TwoObjects { uri: String, count: usize },
    /// The key's type or curve is one trustroot does not sign with.
    #[error("{uri}: the key is {what}; TUF keys on a token are ECDSA P-256, P-384 or Ed25519")]
    UnsupportedKey { uri: String, what: String },
    /// The private key has no public key object or attribute to read.
    #[error(
        "{uri}: the token shows no public key for this private key (no public key object with the same id or label)"
    )]
    NoPublicKey { uri: String },
    /// A PKCS#11 call failed.
    #[error("{uri}: {operation}: {problem}")]
    Call {
        uri: String,
        operation: &'static str,
        problem: TokenProblem,
    },
    /// The token returned a signature that does not verify under its own public key.
    #[error("{uri}: the token returned a signature that does not verify under its public key; nothing was signed")]
    BadSignature { uri: String },
    /// The key asks for its PIN before each signature, and the token has no mechanism that
    /// can sign after that login (one that hashes on the token).
    #[error(
        "{uri}: the key asks for the PIN before each signature (CKA_ALWAYS_AUTHENTICATE), and the token offers no {algorithm} mechanism that hashes on the token, which signing after that login needs; make the key without always-authenticate"
    )]
    NoContextLoginMechanism { uri: String, algorithm: &'static str },
    /// No PIN source and no terminal to ask.
    #[error(
        "{uri}: the token needs a PIN and there is no terminal to ask for it: add pin-source=file:PATH or pin-source=env:VAR to the URI, or set TRUSTROOT_PKCS11_PIN"
    )]
    NoPinSource { uri: String },
    /// The PIN file is empty or the PIN variable unset.
    #[error("{uri}: the PIN source {source_name} is empty or unset")]
    EmptyPin { uri: String, source_name: String },
    /// `key generate` would add a second key under a label or id already used.
    #[error("{uri}: the token already holds an object with this label or id; choose another object= or id=")]
    Exists { uri: String },
    /// `key generate` was asked for a key type the token cannot make.
    #[error("{uri}: the token cannot generate {what}")]
    CannotGenerate { uri: String, what: String },
}

fn no_object(others: &[String]) -> String {
    if others.is_empty() {
        "the token has no private key with this object=/id= (`trustroot key list --module PATH --login` lists them)"
            .to_string()
    } else {
        format!(
            "names {} but no private key; signing needs the private key object",
            others.join(" and ")
        )
    }
}

/// What is wrong with a `pkcs11:` URI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UriProblem {
    #[error("not a pkcs11: URI")]
    NotPkcs11,
    #[error("names no token and no object (give token=, object= or id=)")]
    NamesNothing,
    #[error("attribute '{attribute}' has no value")]
    NoValue { attribute: String },
    #[error("attribute '{attribute}' has a bad %-escape")]
    BadEscape { attribute: String },
    #[error("attribute '{attribute}' is not UTF-8 text")]
    NotUtf8 { attribute: String },
    #[error("attribute '{attribute}' appears twice")]
    Repeated { attribute: String },
    #[error("unknown attribute '{attribute}'")]
    UnknownAttribute { attribute: String },
    #[error("'{value}' is not a valid {attribute}")]
    BadValue { attribute: String, value: String },
    #[error(
        "a key reference is never secret: pin-value is refused; use pin-source=file:PATH, pin-source=env:VAR or TRUSTROOT_PKCS11_PIN"
    )]
    PinInUri,
    #[error("module-name is not supported: give module-path=/path/to/module.so")]
    ModuleName,
}

/// How many PIN tries a token says are left, as far as PKCS#11 tells (it gives flags, not
/// a count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinTries {
    Unknown,
    /// CKF_USER_PIN_COUNT_LOW: a wrong PIN was entered since the last good one.
    Low,
    /// CKF_USER_PIN_FINAL_TRY: one more wrong PIN locks the token.
    FinalTry,
}

/// A PKCS#11 return code, in the terms a keyholder acts on.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenProblem {
    #[error("wrong PIN{}; nothing was signed", match tries {
        PinTries::Unknown => "",
        PinTries::Low => " (the token says few tries are left)",
        PinTries::FinalTry => " (ONE try is left before the PIN locks)",
    })]
    PinIncorrect { tries: PinTries },
    #[error(
        "the PIN is locked after too many wrong tries; unlock it with the token's PUK or SO PIN (e.g. `ykman piv access unblock-pin`)"
    )]
    PinLocked,
    #[error("the PIN has expired; change it with the token's own tool first")]
    PinExpired,
    #[error("the token's user PIN is not initialised")]
    PinNotInitialized,
    #[error("the token was removed or stopped answering; reconnect it and run the command again (nothing was written)")]
    Removed,
    #[error("the token does not support this operation or mechanism")]
    Unsupported,
    #[error("the key may not sign (CKA_SIGN is false, or the key type does not fit the mechanism)")]
    KeyCannotSign,
    #[error("the token refused: {code}")]
    Other { code: String },
}

impl TokenProblem {
    /// Maps a PKCS#11 return code (its name, as the cryptoki crate spells it: `PinIncorrect`,
    /// `DeviceRemoved`...) to what it means here. Codes of a token removed or locked are
    /// mapped here because no software token can stage them in a test.
    pub fn from_code(code: &str, tries: PinTries) -> TokenProblem {
        match code {
            "PinIncorrect" | "PinInvalid" | "PinLenRange" => TokenProblem::PinIncorrect { tries },
            "PinLocked" => TokenProblem::PinLocked,
            "PinExpired" => TokenProblem::PinExpired,
            "UserPinNotInitialized" => TokenProblem::PinNotInitialized,
            "DeviceRemoved"
            | "TokenNotPresent"
            | "TokenNotRecognized"
            | "SessionClosed"
            | "SessionHandleInvalid"
            | "DeviceError"
            | "SlotIdInvalid" => TokenProblem::Removed,
            "MechanismInvalid" | "MechanismParamInvalid" | "FunctionNotSupported" => TokenProblem::Unsupported,
            "KeyFunctionNotPermitted" | "KeyTypeInconsistent" | "KeyHandleInvalid" => TokenProblem::KeyCannotSign,
            other => TokenProblem::Other {
                code: other.to_string(),
            },
        }
    }
}

impl TokenError {
    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            TokenError::Uri { .. }
            | TokenError::NoModule { .. }
            | TokenError::NotAModule { .. }
            | TokenError::NoMatchingToken { .. }
            | TokenError::TwoTokens { .. }
            | TokenError::NoObject { .. }
            | TokenError::TwoObjects { .. }
            | TokenError::UnsupportedKey { .. }
            | TokenError::NoPinSource { .. }
            | TokenError::EmptyPin { .. }
            | TokenError::Exists { .. }
            | TokenError::CannotGenerate { .. }
            | TokenError::NoContextLoginMechanism { .. } => ErrorClass::Usage,
            TokenError::Call {
                problem: TokenProblem::PinIncorrect { .. },
                ..
            } => ErrorClass::Usage,
            TokenError::NoToken { .. }
            | TokenError::NoReader { .. }
            | TokenError::NoPublicKey { .. }
            | TokenError::Call { .. }
            | TokenError::BadSignature { .. } => ErrorClass::Io,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_removed_mid_command_reads_as_removed() {
        for code in [
            "DeviceRemoved",
            "TokenNotPresent",
            "SessionHandleInvalid",
            "SessionClosed",
            "DeviceError",
        ] {
            let problem = TokenProblem::from_code(code, PinTries::Unknown);
            assert_eq!(problem, TokenProblem::Removed, "{code}");
            assert!(problem.to_string().contains("nothing was written"));
        }
    }

    #[test]
    fn a_locked_token_says_how_to_unlock() {
        let problem = TokenProblem::from_code("PinLocked", PinTries::Unknown);
        assert_eq!(problem, TokenProblem::PinLocked);
        assert!(problem.to_string().contains("unblock-pin"), "{problem}");
    }

    #[test]
    fn a_wrong_pin_reports_the_tries_the_token_admits() {
        let last = TokenProblem::from_code("PinIncorrect", PinTries::FinalTry).to_string();
        assert!(last.contains("ONE try"), "{last}");
        let low = TokenProblem::from_code("PinIncorrect", PinTries::Low).to_string();
        assert!(low.contains("few tries"), "{low}");
        let err = TokenError::Call {
            uri: "pkcs11:object=k".into(),
            operation: "login",
            problem: TokenProblem::from_code("PinIncorrect", PinTries::Unknown),
        };
        assert_eq!(err.class(), ErrorClass::Usage);
        assert_eq!(err.to_string(), "pkcs11:object=k: login: wrong PIN; nothing was signed");
    }

    #[test]
    fn unknown_codes_are_named() {
        let problem = TokenProblem::from_code("GeneralError", PinTries::Unknown);
        assert!(problem.to_string().contains("GeneralError"));
    }
}
