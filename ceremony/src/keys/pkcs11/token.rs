//! Reaching a key on a token: loading the module, choosing the slot, logging in, finding
//! the object. Each failure is a [`TokenError`] that names the URI.

use std::path::{Path, PathBuf};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use pkcs8::der::zeroize::Zeroizing;

use super::uri::{PinSource, Pkcs11Uri};
use crate::error::{Error, PinTries, Result, TokenError, TokenProblem};

/// The environment variable naming the module when a URI has no `module-path=`.
pub const MODULE_VARIABLE: &str = "TRUSTROOT_PKCS11_MODULE";
/// The environment variable holding the PIN when a URI has no `pin-source=`.
pub const PIN_VARIABLE: &str = "TRUSTROOT_PKCS11_PIN";

/// The module a URI names, or the one `TRUSTROOT_PKCS11_MODULE` names.
pub fn module_path(uri: &Pkcs11Uri) -> Result<PathBuf, TokenError> {
    if let Some(path) = &uri.module_path {
        return Ok(path.clone());
    }
    match std::env::var_os(MODULE_VARIABLE) {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Err(TokenError::NoModule { uri: uri.text.clone() }),
    }
}

/// Loads and initialises a PKCS#11 module.
pub fn load_module(path: &Path) -> Result<Pkcs11, TokenError> {
    let not_a_module = |reason: String| TokenError::NotAModule {
        module: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(not_a_module("no such file".to_string()));
    }
    let context = Pkcs11::new(path).map_err(|e| not_a_module(e.to_string()))?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(context),
        Err(e) => Err(not_a_module(format!("C_Initialize failed: {e}"))),
    }
}

/// A PKCS#11 failure in `operation`, in a keyholder's terms.
pub fn call_failed(uri: &Pkcs11Uri, operation: &'static str, tries: PinTries) -> impl FnOnce(CkError) -> Error + use<> {
    let uri = uri.text.clone();
    move |e| {
        let problem = match &e {
            CkError::Pkcs11(rv, _) => TokenProblem::from_code(&format!("{rv:?}"), tries),
            other => TokenProblem::Other {
                code: other.to_string(),
            },
        };
        TokenError::Call {
            uri,
            operation,
            problem,
        }
        .into()
    }
}

/// A token as named in messages: its label and serial.
pub fn token_name(info: &TokenInfo) -> String {
    format!("'{}' (serial {})", info.label().trim(), info.serial_number().trim())
}

/// The one slot whose token matches the URI.
pub fn find_slot(context: &Pkcs11, uri: &Pkcs11Uri, module: &Path) -> Result<(Slot, TokenInfo)> {
    let slots = slots_with_token(context, uri, module)?;
    if slots.is_empty() {
        return Err(TokenError::NoToken {
            uri: uri.text.clone(),
            module: module.to_path_buf(),
        }
        .into());
    }
    let mut present = Vec::new();
    let mut matching = Vec::new();
    for slot in slots {
        let info =
            context
                .get_token_info(slot)
                .map_err(call_failed(uri, "reading token information", PinTries::Unknown))?;
        if !info.token_initialized() {
            continue;
        }
        present.push(token_name(&info));
        if token_matches(uri, slot, &info) {
            matching.push((slot, info));
        }
    }
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 => Err(TokenError::NoMatchingToken {
            uri: uri.text.clone(),
            tokens: present,
        }
        .into()),
        _ => Err(TokenError::TwoTokens {
            uri: uri.text.clone(),
            tokens: matching.iter().map(|(_, info)| token_name(info)).collect(),
        }
        .into()),
    }
}

/// The slots with a token. A module that cannot even list them has no reader to talk to
/// (libykcs11 answers CKR_DEVICE_ERROR when no YubiKey or pcscd is there).
pub fn slots_with_token(context: &Pkcs11, uri: &Pkcs11Uri, module: &Path) -> Result<Vec<Slot>, TokenError> {
    context.get_slots_with_token().map_err(|e| TokenError::NoReader {
        uri: uri.text.clone(),
        module: module.to_path_buf(),
        code: match e {
            CkError::Pkcs11(rv, _) => format!("{rv:?}"),
            other => other.to_string(),
        },
    })
}

fn token_matches(uri: &Pkcs11Uri, slot: Slot, info: &TokenInfo) -> bool {
    let same = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have.trim());
    same(&uri.token, info.label())
        && same(&uri.manufacturer, info.manufacturer_id())
        && same(&uri.model, info.model())
        && same(&uri.serial, info.serial_number())
        && uri.slot_id.is_none_or(|id| id == slot.id())
}

/// How many tries the token admits are left.
pub fn pin_tries(context: &Pkcs11, slot: Slot) -> PinTries {
    match context.get_token_info(slot) {
        Ok(info) if info.user_pin_final_try() => PinTries::FinalTry,
        Ok(info) if info.user_pin_count_low() => PinTries::Low,
        _ => PinTries::Unknown,
    }
}

/// The PIN: the URI's `pin-source`, else `TRUSTROOT_PKCS11_PIN`, else `ask` (a prompt
/// at the terminal, or an error when there is none).
pub fn pin(uri: &Pkcs11Uri, ask: &mut dyn FnMut() -> Result<Zeroizing<String>>) -> Result<Zeroizing<String>> {
    let empty = |source_name: String| -> Error {
        TokenError::EmptyPin {
            uri: uri.text.clone(),
            source_name,
        }
        .into()
    };
    match &uri.pin_source {
        Some(PinSource::File(path)) => crate::keys::passphrase_from_file(path),
        Some(PinSource::Env(var)) => match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(Zeroizing::new(value)),
            _ => Err(empty(format!("env:{var}"))),
        },
        None => match std::env::var(PIN_VARIABLE) {
            Ok(value) if !value.is_empty() => Ok(Zeroizing::new(value)),
            _ => ask(),
        },
    }
}

/// Logs the session in as the user, once: the PIN is asked for only when the token
/// needs one, and a token with its own PIN pad gets none. Returns the PIN typed, kept for
/// keys that ask for it again before each signature (CKA_ALWAYS_AUTHENTICATE).
pub fn login(
    context: &Pkcs11,
    session: &Session,
    slot: Slot,
    info: &TokenInfo,
    uri: &Pkcs11Uri,
    ask: &mut dyn FnMut() -> Result<Zeroizing<String>>,
) -> Result<Option<Zeroizing<String>>> {
    if !info.login_required() {
        return Ok(None);
    }
    let (result, secret) = if info.protected_authentication_path() {
        (session.login(UserType::User, None), None)
    } else {
        let secret = pin(uri, ask)?;
        let result = session.login(UserType::User, Some(&cryptoki::types::AuthPin::from(secret.as_str())));
        (result, Some(secret))
    };
    match result {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(secret),
        Err(e) => Err(call_failed(uri, "login", pin_tries(context, slot))(e)),
    }
}

/// True when the key asks for the PIN again before each use (a YubiKey's slot 9c key, with
/// its default PIN policy).
pub fn always_authenticate(session: &Session, object: ObjectHandle) -> bool {
    let values = session
        .get_attributes(object, &[AttributeType::AlwaysAuthenticate])
        .ok();
    values
        .into_iter()
        .flatten()
        .any(|value| matches!(value, Attribute::AlwaysAuthenticate(true)))
}

/// The attributes that select objects: the URI's label and id, and `class`.
pub fn template(uri: &Pkcs11Uri, class: ObjectClass) -> Vec<Attribute> {
    let mut template = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    template
}

/// The one private key the URI names. When none matches, says which other objects do
/// (a public key or certificate given where the private key belongs).
pub fn find_private_key(session: &Session, uri: &Pkcs11Uri) -> Result<ObjectHandle> {
    if let Some(kind) = uri.object_type.as_deref()
        && kind != "private"
    {
        return Err(TokenError::NoObject {
            uri: uri.text.clone(),
            others: vec![format!("a {kind} object (type={kind})")],
        }
        .into());
    }
    let mut found = session
        .find_objects(&template(uri, ObjectClass::PRIVATE_KEY))
        .map_err(call_failed(uri, "finding the key", PinTries::Unknown))?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => {
            let mut others = Vec::new();
            for (class, what) in [
                (ObjectClass::PUBLIC_KEY, "a public key"),
                (ObjectClass::CERTIFICATE, "a certificate"),
                (ObjectClass::SECRET_KEY, "a secret key"),
            ] {
                if session.find_objects(&template(uri, class)).is_ok_and(|o| !o.is_empty()) {
                    others.push(what.to_string());
                }
            }
            Err(TokenError::NoObject {
                uri: uri.text.clone(),
                others,
            }
            .into())
        }
        count => Err(TokenError::TwoObjects {
            uri: uri.text.clone(),
            count,
        }
        .into()),
    }
}

/// One attribute's bytes, `None` when the object does not have it.
pub fn bytes_attribute(session: &Session, object: ObjectHandle, kind: AttributeType) -> Option<Vec<u8>> {
    let values = session.get_attributes(object, &[kind]).ok()?;
    values.into_iter().find_map(|value| match value {
        Attribute::EcParams(v) | Attribute::EcPoint(v) | Attribute::Id(v) | Attribute::Label(v) => Some(v),
        _ => None,
    })
}

/// The CKA_KEY_TYPE of a key object.
pub fn key_type(session: &Session, object: ObjectHandle) -> Option<cryptoki::object::KeyType> {
    let values = session.get_attributes(object, &[AttributeType::KeyType]).ok()?;
    values.into_iter().find_map(|value| match value {
        Attribute::KeyType(kind) => Some(kind),
        _ => None,
    })
}
