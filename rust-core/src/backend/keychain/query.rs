//! Keychain queries as plain Rust data, and every query the backend sends.
//!
//! A [`Query`] is the platform-neutral form of the `CFDictionary` that `SecItemAdd`,
//! `SecItemCopyMatching`, `SecItemUpdate` and `SecItemDelete` take: a list of
//! [`Attribute`]s, each keyed by one `kSec` constant. The Apple implementation turns a query
//! into a dictionary and the fake interprets it directly, so the builders at the end of this
//! file are the single place that decides what the backend sends to the Keychain.
//!
//! The string values of the `kSec` constants ([`Attribute::cf_key`],
//! [`accessible_cf_value`]) are the ones defined in Apple's Security sources
//! (`OSX/sec/Security/SecItemConstants.c`, for example `kSecAttrAccessible = "pdmn"`). They
//! are also the column names of the Keychain database, so they are fixed in practice; using
//! them lets the Apple implementation build dictionaries without reading extern statics,
//! which would need `unsafe`.

use std::fmt;

use zeroize::Zeroizing;

use crate::backend::Accessibility;

/// The prefix of every `kSecAttrService` this library writes. See the module documentation
/// of [`crate::backend::keychain`] for the encoding.
pub const SERVICE_PREFIX: &str = "dev.securestore.v1/";

/// The `kSecAttrService` of the short-lived item that finds the app's default access group.
/// It does not start with [`SERVICE_PREFIX`], so no entry can ever have it.
pub const PROBE_SERVICE: &str = "dev.securestore.v1.access-group-probe";

/// The separator between a key and the marker of its staged copy in `kSecAttrAccount`.
/// Keys never contain `#`, so a staged copy never has the account of an entry.
const STAGED_SUFFIX: &str = "#staged";

/// The `kSecAttrLabel` prefix that marks items written by this library.
const LABEL_PREFIX: &str = "dev.securestore.v1;";

/// The `kSecAttrLabel` suffix of items bound to the current biometric set.
const BIOMETRY_LABEL_SUFFIX: &str = ";biometry-current-set";

/// One row of the accessibility table: the option, its expo-secure-store code, the name of
/// the `kSecAttrAccessible` constant and that constant's string value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessibleConstant {
    /// The option.
    pub accessibility: Accessibility,
    /// The numeric code of expo-secure-store SDK 54.
    pub expo_code: u8,
    /// The name of the `kSecAttrAccessible` value constant.
    pub constant_name: &'static str,
    /// The string value of that constant in Apple's Security sources.
    pub cf_value: &'static str,
}

/// Every accessibility option with its Keychain constant, in expo-secure-store code order.
pub const ACCESSIBLE_CONSTANTS: [AccessibleConstant; 7] = [
    AccessibleConstant {
        accessibility: Accessibility::AfterFirstUnlock,
        expo_code: 0,
        constant_name: "kSecAttrAccessibleAfterFirstUnlock",
        cf_value: "ck",
    },
    AccessibleConstant {
        accessibility: Accessibility::AfterFirstUnlockThisDeviceOnly,
        expo_code: 1,
        constant_name: "kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly",
        cf_value: "cku",
    },
    AccessibleConstant {
        accessibility: Accessibility::Always,
        expo_code: 2,
        constant_name: "kSecAttrAccessibleAlways",
        cf_value: "dk",
    },
    AccessibleConstant {
        accessibility: Accessibility::WhenPasscodeSetThisDeviceOnly,
        expo_code: 3,
        constant_name: "kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly",
        cf_value: "akpu",
    },
    AccessibleConstant {
        accessibility: Accessibility::AlwaysThisDeviceOnly,
        expo_code: 4,
        constant_name: "kSecAttrAccessibleAlwaysThisDeviceOnly",
        cf_value: "dku",
    },
    AccessibleConstant {
        accessibility: Accessibility::WhenUnlocked,
        expo_code: 5,
        constant_name: "kSecAttrAccessibleWhenUnlocked",
        cf_value: "ak",
    },
    AccessibleConstant {
        accessibility: Accessibility::WhenUnlockedThisDeviceOnly,
        expo_code: 6,
        constant_name: "kSecAttrAccessibleWhenUnlockedThisDeviceOnly",
        cf_value: "aku",
    },
];

/// Returns the table row of `accessibility`.
pub fn accessible_constant(accessibility: Accessibility) -> AccessibleConstant {
    // Every variant has exactly one row, which a test checks.
    match accessibility {
        Accessibility::AfterFirstUnlock => ACCESSIBLE_CONSTANTS[0],
        Accessibility::AfterFirstUnlockThisDeviceOnly => ACCESSIBLE_CONSTANTS[1],
        Accessibility::Always => ACCESSIBLE_CONSTANTS[2],
        Accessibility::WhenPasscodeSetThisDeviceOnly => ACCESSIBLE_CONSTANTS[3],
        Accessibility::AlwaysThisDeviceOnly => ACCESSIBLE_CONSTANTS[4],
        Accessibility::WhenUnlocked => ACCESSIBLE_CONSTANTS[5],
        Accessibility::WhenUnlockedThisDeviceOnly => ACCESSIBLE_CONSTANTS[6],
    }
}

/// Returns the string value of the `kSecAttrAccessible` constant for `accessibility`.
pub fn accessible_cf_value(accessibility: Accessibility) -> &'static str {
    accessible_constant(accessibility).cf_value
}

/// Parses a `kSecAttrAccessible` string value as the Keychain reports it.
pub fn accessibility_from_cf_value(value: &str) -> Option<Accessibility> {
    ACCESSIBLE_CONSTANTS.iter().find(|row| row.cf_value == value).map(|row| row.accessibility)
}

/// Returns the option with the expo-secure-store code `code`.
pub fn accessibility_from_expo_code(code: u8) -> Option<Accessibility> {
    ACCESSIBLE_CONSTANTS.iter().find(|row| row.expo_code == code).map(|row| row.accessibility)
}

/// A `kSecClass` value. Entries are generic passwords only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ItemClass {
    /// `kSecClassGenericPassword`.
    GenericPassword,
}

/// A `kSecMatchLimit` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchLimit {
    /// `kSecMatchLimitOne`.
    One,
    /// `kSecMatchLimitAll`.
    All,
}

/// The user-presence constraint of a `SecAccessControl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessConstraint {
    /// `kSecAccessControlBiometryCurrentSet`: Touch ID or Face ID with the fingers or face
    /// enrolled when the item was written. Enrolling or removing one invalidates the item.
    BiometryCurrentSet,
}

/// A `SecAccessControl`, created with `SecAccessControlCreateWithFlags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessControl {
    /// The protection class, passed as the `protection` argument.
    pub accessible: Accessibility,
    /// The constraint, passed as the `flags` argument.
    pub constraint: AccessConstraint,
}

/// One key and value of a Keychain query or attribute dictionary.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute {
    /// `kSecClass`.
    Class(ItemClass),
    /// `kSecAttrService`.
    Service(String),
    /// `kSecAttrAccount`.
    Account(String),
    /// `kSecAttrAccessGroup`.
    AccessGroup(String),
    /// `kSecAttrLabel`.
    Label(String),
    /// `kSecAttrAccessible`. Mutually exclusive with [`Attribute::AccessControl`].
    Accessible(Accessibility),
    /// `kSecAttrAccessControl`.
    AccessControl(AccessControl),
    /// `kSecValueData`: the secret.
    ValueData(Zeroizing<Vec<u8>>),
    /// `kSecUseDataProtectionKeychain = true`. Required on macOS for accessibility classes
    /// and access control to apply; iOS and tvOS have only this keychain.
    UseDataProtectionKeychain,
    /// `kSecUseOperationPrompt`: the reason shown when reading an item needs authentication.
    UseOperationPrompt(String),
    /// `kSecReturnData = true`.
    ReturnData,
    /// `kSecReturnAttributes = true`.
    ReturnAttributes,
    /// `kSecMatchLimit`.
    MatchLimit(MatchLimit),
}

impl Attribute {
    /// Returns the name of the `kSec` constant that keys this attribute.
    pub fn constant_name(&self) -> &'static str {
        match self {
            Attribute::Class(_) => "kSecClass",
            Attribute::Service(_) => "kSecAttrService",
            Attribute::Account(_) => "kSecAttrAccount",
            Attribute::AccessGroup(_) => "kSecAttrAccessGroup",
            Attribute::Label(_) => "kSecAttrLabel",
            Attribute::Accessible(_) => "kSecAttrAccessible",
            Attribute::AccessControl(_) => "kSecAttrAccessControl",
            Attribute::ValueData(_) => "kSecValueData",
            Attribute::UseDataProtectionKeychain => "kSecUseDataProtectionKeychain",
            Attribute::UseOperationPrompt(_) => "kSecUseOperationPrompt",
            Attribute::ReturnData => "kSecReturnData",
            Attribute::ReturnAttributes => "kSecReturnAttributes",
            Attribute::MatchLimit(_) => "kSecMatchLimit",
        }
    }

    /// Returns the string value of that constant in Apple's Security sources.
    pub fn cf_key(&self) -> &'static str {
        match self {
            Attribute::Class(_) => "class",
            Attribute::Service(_) => "svce",
            Attribute::Account(_) => "acct",
            Attribute::AccessGroup(_) => "agrp",
            Attribute::Label(_) => "labl",
            Attribute::Accessible(_) => "pdmn",
            Attribute::AccessControl(_) => "accc",
            Attribute::ValueData(_) => "v_Data",
            Attribute::UseDataProtectionKeychain => "nleg",
            Attribute::UseOperationPrompt(_) => "u_OpPrompt",
            Attribute::ReturnData => "r_Data",
            Attribute::ReturnAttributes => "r_Attributes",
            Attribute::MatchLimit(_) => "m_Limit",
        }
    }
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.constant_name();
        match self {
            Attribute::Class(class) => write!(f, "{name}={class:?}"),
            Attribute::Service(text)
            | Attribute::Account(text)
            | Attribute::AccessGroup(text)
            | Attribute::Label(text)
            | Attribute::UseOperationPrompt(text) => write!(f, "{name}={text:?}"),
            Attribute::Accessible(accessible) => write!(f, "{name}={accessible:?}"),
            Attribute::AccessControl(control) => write!(f, "{name}={control:?}"),
            // The secret itself is never formatted.
            Attribute::ValueData(data) => write!(f, "{name}=<{} bytes>", data.len()),
            Attribute::MatchLimit(limit) => write!(f, "{name}={limit:?}"),
            Attribute::UseDataProtectionKeychain | Attribute::ReturnData | Attribute::ReturnAttributes => {
                write!(f, "{name}=true")
            }
        }
    }
}

impl ItemClass {
    /// Returns the string value of the class constant, `kSecClassGenericPassword = "genp"`.
    pub fn cf_value(self) -> &'static str {
        match self {
            ItemClass::GenericPassword => "genp",
        }
    }
}

impl MatchLimit {
    /// Returns the string value of the limit constant.
    pub fn cf_value(self) -> &'static str {
        match self {
            MatchLimit::One => "m_LimitOne",
            MatchLimit::All => "m_LimitAll",
        }
    }
}

/// A Keychain query or attribute dictionary, in the order the attributes were added.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Query {
    attributes: Vec<Attribute>,
}

impl Query {
    /// Creates an empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the query with `attribute` appended.
    pub fn with(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Returns the attributes in order.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// Returns the first attribute for which `select` returns a value.
    pub fn find<'a, T>(&'a self, select: impl Fn(&'a Attribute) -> Option<T>) -> Option<T> {
        self.attributes.iter().find_map(select)
    }

    /// Returns whether the query contains an attribute keyed by the same constant as `attribute`.
    pub fn has_key_of(&self, attribute: &Attribute) -> bool {
        self.attributes.iter().any(|present| present.cf_key() == attribute.cf_key())
    }

    /// Returns the `kSecAttrService` value, if any.
    pub fn service(&self) -> Option<&str> {
        self.find(|a| match a {
            Attribute::Service(service) => Some(service.as_str()),
            _ => None,
        })
    }

    /// Returns the `kSecAttrAccount` value, if any.
    pub fn account(&self) -> Option<&str> {
        self.find(|a| match a {
            Attribute::Account(account) => Some(account.as_str()),
            _ => None,
        })
    }

    /// Returns the `kSecAttrAccessGroup` value, if any.
    pub fn access_group(&self) -> Option<&str> {
        self.find(|a| match a {
            Attribute::AccessGroup(group) => Some(group.as_str()),
            _ => None,
        })
    }

    /// Returns the `kSecAttrLabel` value, if any.
    pub fn label(&self) -> Option<&str> {
        self.find(|a| match a {
            Attribute::Label(label) => Some(label.as_str()),
            _ => None,
        })
    }
}

impl fmt::Debug for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.attributes).finish()
    }
}

/// The protection an entry is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemProtection {
    /// The accessibility class.
    pub accessible: Accessibility,
    /// Whether the item is bound to the current biometric set.
    pub require_authentication: bool,
}

impl ItemProtection {
    /// Returns the attribute that applies this protection: `kSecAttrAccessible` for plain
    /// items, `kSecAttrAccessControl` for items bound to the current biometric set.
    pub fn attribute(self) -> Attribute {
        if self.require_authentication {
            Attribute::AccessControl(AccessControl {
                accessible: self.accessible,
                constraint: AccessConstraint::BiometryCurrentSet,
            })
        } else {
            Attribute::Accessible(self.accessible)
        }
    }

    /// Returns the `kSecAttrLabel` that records this protection on the item, so that an
    /// overwrite can tell from a query whether the item in place has the same protection.
    pub fn label(self) -> String {
        let class = accessible_cf_value(self.accessible);
        if self.require_authentication {
            format!("{LABEL_PREFIX}{class}{BIOMETRY_LABEL_SUFFIX}")
        } else {
            format!("{LABEL_PREFIX}{class}")
        }
    }

    /// Parses a label written by [`ItemProtection::label`].
    pub fn from_label(label: &str) -> Option<Self> {
        let rest = label.strip_prefix(LABEL_PREFIX)?;
        let (class, require_authentication) = match rest.strip_suffix(BIOMETRY_LABEL_SUFFIX) {
            Some(class) => (class, true),
            None => (rest, false),
        };
        let accessible = accessibility_from_cf_value(class)?;
        Some(ItemProtection { accessible, require_authentication })
    }
}

/// The kind of item that a `kSecAttrAccount` in one of this library's services names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountKind {
    /// The entry of this key.
    Entry(String),
    /// The staged copy of this key, written during an overwrite.
    Staged(String),
    /// Anything else: an item another program put into the service.
    Foreign,
}

/// Returns the `kSecAttrService` of `service`.
pub fn keychain_service(service: &str) -> String {
    format!("{SERVICE_PREFIX}{service}")
}

/// Returns the `kSecAttrAccount` of the entry of `key`. Keys are used as they are, so the
/// Keychain's case-sensitive matching keeps `Token` and `token` apart.
pub fn entry_account(key: &str) -> String {
    key.to_owned()
}

/// Returns the `kSecAttrAccount` of the staged copy of `key`.
pub fn staged_account(key: &str) -> String {
    format!("{key}{STAGED_SUFFIX}")
}

/// Classifies an account found in one of this library's services.
pub fn parse_account(account: &str) -> AccountKind {
    let is_key = |text: &str| crate::validate::validate_key(text).is_ok();
    if is_key(account) {
        return AccountKind::Entry(account.to_owned());
    }
    match account.strip_suffix(STAGED_SUFFIX) {
        Some(key) if is_key(key) => AccountKind::Staged(key.to_owned()),
        _ => AccountKind::Foreign,
    }
}

/// The items of one service in one access group: the part shared by every query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The encoded `kSecAttrService`.
    pub service: String,
    /// The access group, always explicit so that items of other groups never match.
    pub access_group: String,
}

impl Scope {
    /// Creates the scope of `service` (not yet encoded) in `access_group`.
    pub fn new(service: &str, access_group: &str) -> Self {
        Scope { service: keychain_service(service), access_group: access_group.to_owned() }
    }
}

/// Builds the query that matches every item of `scope`.
pub fn service_items(scope: &Scope) -> Query {
    Query::new()
        .with(Attribute::Class(ItemClass::GenericPassword))
        .with(Attribute::Service(scope.service.clone()))
        .with(Attribute::AccessGroup(scope.access_group.clone()))
        .with(Attribute::UseDataProtectionKeychain)
}

/// Builds the query that matches the item with `account` in `scope`.
pub fn item(scope: &Scope, account: &str) -> Query {
    service_items(scope).with(Attribute::Account(account.to_owned()))
}

/// Builds the attributes of a new item holding `value`.
pub fn new_item(scope: &Scope, account: &str, protection: ItemProtection, value: &[u8]) -> Query {
    item(scope, account)
        .with(Attribute::Label(protection.label()))
        .with(protection.attribute())
        .with(Attribute::ValueData(Zeroizing::new(value.to_vec())))
}

/// Builds the query that reads the value of the item with `account`. `prompt` is the reason
/// shown if the item needs authentication.
///
/// NOTE: Apple lists `kSecUseOperationPrompt` as deprecated since iOS 14. Its replacement, an
/// `LAContext` with `localizedReason` under `kSecUseAuthenticationContext`, needs a
/// LocalAuthentication binding that this crate cannot use without unsafe code.
pub fn read_value(scope: &Scope, account: &str, prompt: Option<&str>) -> Query {
    let query = item(scope, account).with(Attribute::ReturnData).with(Attribute::MatchLimit(MatchLimit::One));
    match prompt {
        Some(prompt) => query.with(Attribute::UseOperationPrompt(prompt.to_owned())),
        None => query,
    }
}

/// Builds the query that reads the attributes, not the value, of the item with `account`.
/// Reading attributes never needs authentication.
pub fn read_attributes(scope: &Scope, account: &str) -> Query {
    item(scope, account).with(Attribute::ReturnAttributes).with(Attribute::MatchLimit(MatchLimit::One))
}

/// Builds the query that lists the attributes of every item of `scope`.
pub fn list_items(scope: &Scope) -> Query {
    service_items(scope).with(Attribute::ReturnAttributes).with(Attribute::MatchLimit(MatchLimit::All))
}

/// Builds the query that selects the item with `account` only while its label is `label`.
pub fn update_target(scope: &Scope, account: &str, label: &str) -> Query {
    item(scope, account).with(Attribute::Label(label.to_owned()))
}

/// Builds the changes that replace the value of an item and leave its protection.
pub fn value_change(value: &[u8]) -> Query {
    Query::new().with(Attribute::ValueData(Zeroizing::new(value.to_vec())))
}

/// Builds the changes that replace the value and the protection of a plain item in one
/// `SecItemUpdate`.
pub fn value_and_protection_change(value: &[u8], protection: ItemProtection) -> Query {
    value_change(value).with(Attribute::Label(protection.label())).with(protection.attribute())
}

/// Builds the attributes of the item that finds the default access group. It is added
/// without `kSecAttrAccessGroup`, so the Keychain puts it into the app's default group.
pub fn new_probe(account: &str) -> Query {
    Query::new()
        .with(Attribute::Class(ItemClass::GenericPassword))
        .with(Attribute::Service(PROBE_SERVICE.to_owned()))
        .with(Attribute::Account(account.to_owned()))
        .with(Attribute::UseDataProtectionKeychain)
        .with(Attribute::Accessible(Accessibility::AfterFirstUnlockThisDeviceOnly))
        .with(Attribute::ValueData(Zeroizing::new(Vec::new())))
}

/// Builds the query that reads the attributes of the probe item.
pub fn probe_attributes(account: &str) -> Query {
    probe(account).with(Attribute::ReturnAttributes).with(Attribute::MatchLimit(MatchLimit::One))
}

/// Builds the query that matches the probe item.
pub fn probe(account: &str) -> Query {
    Query::new()
        .with(Attribute::Class(ItemClass::GenericPassword))
        .with(Attribute::Service(PROBE_SERVICE.to_owned()))
        .with(Attribute::Account(account.to_owned()))
        .with(Attribute::UseDataProtectionKeychain)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP: &str = "ABCDE12345.dev.securestore.tests";

    fn scope() -> Scope {
        Scope::new("svc", GROUP)
    }

    fn base() -> Vec<Attribute> {
        vec![
            Attribute::Class(ItemClass::GenericPassword),
            Attribute::Service("dev.securestore.v1/svc".to_owned()),
            Attribute::AccessGroup(GROUP.to_owned()),
            Attribute::UseDataProtectionKeychain,
        ]
    }

    fn with(mut attributes: Vec<Attribute>, more: Vec<Attribute>) -> Vec<Attribute> {
        attributes.extend(more);
        attributes
    }

    fn data(bytes: &[u8]) -> Attribute {
        Attribute::ValueData(Zeroizing::new(bytes.to_vec()))
    }

    const ALL: [Accessibility; 7] = [
        Accessibility::AfterFirstUnlock,
        Accessibility::AfterFirstUnlockThisDeviceOnly,
        Accessibility::Always,
        Accessibility::WhenPasscodeSetThisDeviceOnly,
        Accessibility::AlwaysThisDeviceOnly,
        Accessibility::WhenUnlocked,
        Accessibility::WhenUnlockedThisDeviceOnly,
    ];

    #[test]
    fn accessibility_table_matches_expo_and_apple() {
        let expected = [
            (Accessibility::AfterFirstUnlock, 0, "kSecAttrAccessibleAfterFirstUnlock", "ck"),
            (Accessibility::AfterFirstUnlockThisDeviceOnly, 1, "kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly", "cku"),
            (Accessibility::Always, 2, "kSecAttrAccessibleAlways", "dk"),
            (Accessibility::WhenPasscodeSetThisDeviceOnly, 3, "kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly", "akpu"),
            (Accessibility::AlwaysThisDeviceOnly, 4, "kSecAttrAccessibleAlwaysThisDeviceOnly", "dku"),
            (Accessibility::WhenUnlocked, 5, "kSecAttrAccessibleWhenUnlocked", "ak"),
            (Accessibility::WhenUnlockedThisDeviceOnly, 6, "kSecAttrAccessibleWhenUnlockedThisDeviceOnly", "aku"),
        ];
        for (accessibility, code, name, value) in expected {
            let row = accessible_constant(accessibility);
            assert_eq!(row.accessibility, accessibility);
            assert_eq!(row.expo_code, code, "{accessibility:?}");
            assert_eq!(row.constant_name, name, "{accessibility:?}");
            assert_eq!(row.cf_value, value, "{accessibility:?}");
        }
    }

    #[test]
    fn accessibility_mapping_is_one_to_one() {
        for accessibility in ALL {
            let row = accessible_constant(accessibility);
            assert_eq!(accessibility_from_cf_value(row.cf_value), Some(accessibility));
            assert_eq!(accessibility_from_expo_code(row.expo_code), Some(accessibility));
            let same_value = ALL.iter().filter(|other| accessible_cf_value(**other) == row.cf_value).count();
            assert_eq!(same_value, 1, "{accessibility:?}");
        }
        assert_eq!(accessibility_from_expo_code(7), None);
        assert_eq!(accessibility_from_cf_value("f"), None);
        assert_eq!(accessibility_from_cf_value(""), None);
    }

    #[test]
    fn default_accessibility_is_after_first_unlock() {
        assert_eq!(Accessibility::default(), Accessibility::AfterFirstUnlock);
        assert_eq!(accessible_cf_value(Accessibility::default()), "ck");
    }

    #[test]
    fn cf_keys_match_apple_constants() {
        let cases = [
            (Attribute::Class(ItemClass::GenericPassword), "kSecClass", "class"),
            (Attribute::Service(String::new()), "kSecAttrService", "svce"),
            (Attribute::Account(String::new()), "kSecAttrAccount", "acct"),
            (Attribute::AccessGroup(String::new()), "kSecAttrAccessGroup", "agrp"),
            (Attribute::Label(String::new()), "kSecAttrLabel", "labl"),
            (Attribute::Accessible(Accessibility::WhenUnlocked), "kSecAttrAccessible", "pdmn"),
            (ItemProtection { accessible: Accessibility::WhenUnlocked, require_authentication: true }.attribute(), "kSecAttrAccessControl", "accc"),
            (data(b""), "kSecValueData", "v_Data"),
            (Attribute::UseDataProtectionKeychain, "kSecUseDataProtectionKeychain", "nleg"),
            (Attribute::UseOperationPrompt(String::new()), "kSecUseOperationPrompt", "u_OpPrompt"),
            (Attribute::ReturnData, "kSecReturnData", "r_Data"),
            (Attribute::ReturnAttributes, "kSecReturnAttributes", "r_Attributes"),
            (Attribute::MatchLimit(MatchLimit::One), "kSecMatchLimit", "m_Limit"),
        ];
        for (attribute, name, key) in cases {
            assert_eq!(attribute.constant_name(), name);
            assert_eq!(attribute.cf_key(), key, "{name}");
        }
        assert_eq!(ItemClass::GenericPassword.cf_value(), "genp");
        assert_eq!(MatchLimit::One.cf_value(), "m_LimitOne");
        assert_eq!(MatchLimit::All.cf_value(), "m_LimitAll");
    }

    #[test]
    fn debug_never_shows_value() {
        let query = new_item(&scope(), "token", ItemProtection { accessible: Accessibility::AfterFirstUnlock, require_authentication: false }, b"hunter2");
        let text = format!("{query:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("kSecValueData=<7 bytes>"), "{text}");
    }

    #[test]
    fn service_is_prefixed() {
        assert_eq!(keychain_service("svc"), "dev.securestore.v1/svc");
        assert_eq!(keychain_service(crate::validate::DEFAULT_SERVICE), "dev.securestore.v1/dev.securestore.default");
        assert!(!PROBE_SERVICE.starts_with(SERVICE_PREFIX));
    }

    #[test]
    fn accounts_are_parsed() {
        assert_eq!(entry_account("Token"), "Token");
        assert_eq!(staged_account("Token"), "Token#staged");
        assert_eq!(parse_account("Token"), AccountKind::Entry("Token".to_owned()));
        assert_eq!(parse_account("Token#staged"), AccountKind::Staged("Token".to_owned()));
        for foreign in ["", "#staged", "a b", "user@example.com", "Token#staged#staged", "Token#other"] {
            assert_eq!(parse_account(foreign), AccountKind::Foreign, "{foreign:?}");
        }
    }

    #[test]
    fn labels_round_trip() {
        for accessible in ALL {
            for require_authentication in [false, true] {
                let protection = ItemProtection { accessible, require_authentication };
                assert_eq!(ItemProtection::from_label(&protection.label()), Some(protection));
            }
        }
        assert_eq!(
            ItemProtection { accessible: Accessibility::WhenUnlocked, require_authentication: true }.label(),
            "dev.securestore.v1;ak;biometry-current-set"
        );
        assert_eq!(ItemProtection::from_label("dev.securestore.v1;zz"), None);
        assert_eq!(ItemProtection::from_label("other;ck"), None);
    }

    #[test]
    fn new_item_for_every_accessibility() {
        for accessible in ALL {
            let protection = ItemProtection { accessible, require_authentication: false };
            let query = new_item(&scope(), "token", protection, b"v");
            let expected = with(
                base(),
                vec![
                    Attribute::Account("token".to_owned()),
                    Attribute::Label(protection.label()),
                    Attribute::Accessible(accessible),
                    data(b"v"),
                ],
            );
            assert_eq!(query.attributes(), expected.as_slice(), "{accessible:?}");
        }
    }

    #[test]
    fn new_item_with_authentication() {
        let protection = ItemProtection { accessible: Accessibility::WhenUnlockedThisDeviceOnly, require_authentication: true };
        let query = new_item(&scope(), "token", protection, b"v");
        let control = AccessControl {
            accessible: Accessibility::WhenUnlockedThisDeviceOnly,
            constraint: AccessConstraint::BiometryCurrentSet,
        };
        let expected = with(
            base(),
            vec![
                Attribute::Account("token".to_owned()),
                Attribute::Label("dev.securestore.v1;aku;biometry-current-set".to_owned()),
                Attribute::AccessControl(control),
                data(b"v"),
            ],
        );
        assert_eq!(query.attributes(), expected.as_slice());
        assert!(!query.attributes().iter().any(|a| matches!(a, Attribute::Accessible(_))));
    }

    #[test]
    fn access_group_is_explicit() {
        let query = item(&Scope::new("svc", "TEAM.shared"), "k");
        assert_eq!(query.access_group(), Some("TEAM.shared"));
        assert_eq!(query.service(), Some("dev.securestore.v1/svc"));
        assert_eq!(query.account(), Some("k"));
    }

    #[test]
    fn read_value_with_and_without_prompt() {
        let plain = read_value(&scope(), "k", None);
        let expected = with(
            base(),
            vec![Attribute::Account("k".to_owned()), Attribute::ReturnData, Attribute::MatchLimit(MatchLimit::One)],
        );
        assert_eq!(plain.attributes(), expected.as_slice());

        let prompted = read_value(&scope(), "k", Some("Unlock your token"));
        let expected = with(expected, vec![Attribute::UseOperationPrompt("Unlock your token".to_owned())]);
        assert_eq!(prompted.attributes(), expected.as_slice());
    }

    #[test]
    fn attribute_and_list_queries() {
        let one = read_attributes(&scope(), "k");
        let expected = with(
            base(),
            vec![Attribute::Account("k".to_owned()), Attribute::ReturnAttributes, Attribute::MatchLimit(MatchLimit::One)],
        );
        assert_eq!(one.attributes(), expected.as_slice());

        let all = list_items(&scope());
        let expected = with(base(), vec![Attribute::ReturnAttributes, Attribute::MatchLimit(MatchLimit::All)]);
        assert_eq!(all.attributes(), expected.as_slice());
        assert_eq!(all.account(), None);
    }

    #[test]
    fn update_queries() {
        let protection = ItemProtection { accessible: Accessibility::WhenUnlocked, require_authentication: false };
        let target = update_target(&scope(), "k", &protection.label());
        let expected = with(base(), vec![Attribute::Account("k".to_owned()), Attribute::Label("dev.securestore.v1;ak".to_owned())]);
        assert_eq!(target.attributes(), expected.as_slice());

        assert_eq!(value_change(b"v").attributes(), [data(b"v")].as_slice());
        let both = value_and_protection_change(b"v", protection);
        let expected = [
            data(b"v"),
            Attribute::Label("dev.securestore.v1;ak".to_owned()),
            Attribute::Accessible(Accessibility::WhenUnlocked),
        ];
        assert_eq!(both.attributes(), expected.as_slice());
    }

    #[test]
    fn probe_has_no_access_group() {
        let probe_item = new_probe("p1");
        assert_eq!(probe_item.access_group(), None);
        assert_eq!(probe_item.service(), Some(PROBE_SERVICE));
        assert!(probe_item.has_key_of(&Attribute::Accessible(Accessibility::WhenUnlocked)));
        assert!(probe_attributes("p1").has_key_of(&Attribute::ReturnAttributes));
        assert_eq!(probe("p1").account(), Some("p1"));
    }
}
