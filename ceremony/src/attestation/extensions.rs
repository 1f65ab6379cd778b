//! What a YubiKey writes into a key certificate: Yubico's extensions under
//! 1.3.6.1.4.1.41482.3 (firmware, serial, PIN and touch policy, form factor) and the slot in
//! the subject's common name. Firmware 5.7.4 and later wrap each value in a DER OCTET
//! STRING; earlier firmware writes the bytes bare. Both are read.

use x509_cert::der::Decode as _;
use x509_cert::der::asn1::{ObjectIdentifier, OctetStringRef};

use super::cert::Cert;
use crate::error::AttestationError;

const FIRMWARE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.3");
const SERIAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.7");
const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.8");
const FORM_FACTOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.41482.3.9");

/// The key certificate's subject common name is this, then the slot in hex.
const CN_PREFIX: &str = "YubiKey PIV Attestation ";

/// What the key certificate says about the key and the device.
pub(crate) struct Facts {
    pub firmware: String,
    pub serial: Option<u32>,
    pub pin_policy: Option<String>,
    pub touch_policy: Option<String>,
    pub form_factor: Option<String>,
    pub slot: String,
}

/// Reads the facts of a key certificate; refuses one without the firmware extension or the
/// slot name every YubiKey PIV attestation carries.
pub(crate) fn read(key: &Cert) -> Result<Facts, AttestationError> {
    let not_yubico = |reason: &str| AttestationError::NotYubico {
        file: key.file.clone(),
        reason: reason.to_string(),
    };
    let slot = key
        .subject_cn()
        .and_then(|cn| cn.strip_prefix(CN_PREFIX).map(str::to_ascii_lowercase))
        .filter(|s| s.len() == 2 && s.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| not_yubico("its subject is not 'CN=YubiKey PIV Attestation SLOT'"))?;
    let firmware = extension(key, FIRMWARE)
        .ok_or_else(|| not_yubico("it has no firmware version extension (1.3.6.1.4.1.41482.3.3)"))?;
    let firmware = match fixed::<3>(key, firmware, "firmware version")? {
        [major, minor, patch] => format!("{major}.{minor}.{patch}"),
    };
    let serial = extension(key, SERIAL).map(|v| serial(key, v)).transpose()?;
    let (pin_policy, touch_policy) = match extension(key, POLICY) {
        Some(v) => {
            let [pin, touch] = fixed::<2>(key, v, "PIN and touch policy")?;
            (Some(pin_word(pin)), Some(touch_word(touch)))
        }
        None => (None, None),
    };
    let form_factor = extension(key, FORM_FACTOR)
        .map(|v| fixed::<1>(key, v, "form factor").map(|[f]| form_factor_word(f)))
        .transpose()?;
    Ok(Facts {
        firmware,
        serial,
        pin_policy,
        touch_policy,
        form_factor,
        slot,
    })
}

/// The value of extension `oid`, if the certificate has it.
fn extension(cert: &Cert, oid: ObjectIdentifier) -> Option<&[u8]> {
    cert.cert
        .tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oid)
        .map(|e| e.extn_value.as_bytes())
}

/// A value of exactly `N` bytes, bare or inside an OCTET STRING.
fn fixed<const N: usize>(cert: &Cert, value: &[u8], what: &'static str) -> Result<[u8; N], AttestationError> {
    if let Ok(bare) = <[u8; N]>::try_from(value) {
        return Ok(bare);
    }
    OctetStringRef::from_der(value)
        .ok()
        .and_then(|o| <[u8; N]>::try_from(o.as_bytes()).ok())
        .ok_or_else(|| AttestationError::BadExtension {
            file: cert.file.clone(),
            what,
        })
}

/// The serial: a DER INTEGER, bare or inside an OCTET STRING.
fn serial(cert: &Cert, value: &[u8]) -> Result<u32, AttestationError> {
    u32::from_der(value)
        .or_else(|_| OctetStringRef::from_der(value).and_then(|o| u32::from_der(o.as_bytes())))
        .map_err(|_| AttestationError::BadExtension {
            file: cert.file.clone(),
            what: "serial number",
        })
}

/// The PIN policy byte in words (Yubico's PIV values; 4 and 5 are the Bio's).
fn pin_word(byte: u8) -> String {
    match byte {
        1 => "never".to_string(),
        2 => "once".to_string(),
        3 => "always".to_string(),
        4 => "match-once".to_string(),
        5 => "match-always".to_string(),
        other => format!("unknown (0x{other:02x})"),
    }
}

/// The touch policy byte in words.
fn touch_word(byte: u8) -> String {
    match byte {
        1 => "never".to_string(),
        2 => "always".to_string(),
        3 => "cached".to_string(),
        other => format!("unknown (0x{other:02x})"),
    }
}

/// The form factor byte in words: the low bits name the shape, 0x80 marks a FIPS and 0x40
/// a CSPN-certified series.
fn form_factor_word(byte: u8) -> String {
    let shape = match byte & 0x3f {
        0x01 => "USB-A keychain".to_string(),
        0x02 => "USB-A nano".to_string(),
        0x03 => "USB-C keychain".to_string(),
        0x04 => "USB-C nano".to_string(),
        0x05 => "USB-C and Lightning".to_string(),
        0x06 => "USB-A biometric keychain".to_string(),
        0x07 => "USB-C biometric keychain".to_string(),
        other => format!("unknown (0x{other:02x})"),
    };
    let mut word = shape;
    if byte & 0x80 != 0 {
        word.push_str(", FIPS");
    }
    if byte & 0x40 != 0 {
        word.push_str(", CSPN");
    }
    word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_and_form_factor_bytes_in_words() {
        assert_eq!(pin_word(2), "once");
        assert_eq!(touch_word(3), "cached");
        assert_eq!(touch_word(9), "unknown (0x09)");
        assert_eq!(form_factor_word(0x03), "USB-C keychain");
        assert_eq!(form_factor_word(0x81), "USB-A keychain, FIPS");
    }
}
