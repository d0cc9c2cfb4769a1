//! An in-memory Keychain that behaves like the iOS data protection keychain, for tests.
//!
//! [`FakeKeychain`] keeps the rules of the real one that the backend depends on:
//!
//! - An item's identity is (access group, service, account); `SecItemAdd` of an existing
//!   identity fails with `errSecDuplicateItem`. Matching is exact and case-sensitive.
//! - `SecItemUpdate` and `SecItemDelete` act on every matching item and on nothing else;
//!   matching nothing is `errSecItemNotFound`.
//! - Queries match only items in the app's entitled access groups. A query without
//!   `kSecAttrAccessGroup` matches all of them, an add without one uses the first (the default group), and naming
//!   another group fails with `errSecMissingEntitlement`.
//! - While the device is locked, adding, reading or updating an item whose accessibility
//!   class is locked fails with `errSecInteractionNotAllowed`. Deleting is allowed.
//! - An item with a biometric access control records the biometric set it was written
//!   under. After [`FakeKeychain::change_biometric_set`] its value reads as
//!   `errSecItemNotFound`, while its attributes stay visible and it still occupies its
//!   identity until deleted.
//!
//! NOTE: the status of reading an item invalidated by a biometric change is modelled as
//! `errSecItemNotFound`, so `get` returns `None`. If a device reports `errSecAuthFailed`
//! instead, `get` reports an authentication failure; the iOS simulator tests must confirm.
//!
//! It is stricter than the real Keychain where that catches bugs: it rejects attributes the
//! backend never needs in a call (for example `kSecReturnData` in `SecItemAdd`) with
//! `errSecParam`.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use zeroize::Zeroizing;

use super::api::{FoundItem, KeychainApi};
use super::query::{AccessConstraint, Attribute, ItemClass, MatchLimit, Query};
use super::status::OsStatus;
use crate::backend::Accessibility;

/// The access group the fake uses by default: a team id and a bundle id, like a real one.
pub const DEFAULT_TEST_ACCESS_GROUP: &str = "ABCDE12345.dev.securestore.tests";

/// The device's lock state, which decides which accessibility classes are readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// Every class is available.
    Unlocked,
    /// Locked after the first unlock since restart: `AfterFirstUnlock` and `Always` classes
    /// are available.
    LockedAfterFirstUnlock,
    /// Restarted and not unlocked yet: only the `Always` classes are available.
    LockedBeforeFirstUnlock,
}

/// A Keychain call, as recorded by the fake and targeted by injected failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `SecItemAdd`.
    Add,
    /// `SecItemCopyMatching`.
    CopyMatching,
    /// `SecItemUpdate`.
    Update,
    /// `SecItemDelete`.
    Delete,
}

/// A copy of one stored item, for assertions.
#[derive(Clone, PartialEq, Eq)]
pub struct ItemInfo {
    /// `kSecAttrAccessGroup`.
    pub access_group: String,
    /// `kSecAttrService`.
    pub service: String,
    /// `kSecAttrAccount`.
    pub account: String,
    /// `kSecAttrLabel`.
    pub label: Option<String>,
    /// `kSecAttrAccessible`, or the protection class of the access control.
    pub accessible: Accessibility,
    /// Whether the item has a biometric access control.
    pub access_controlled: bool,
    /// `kSecValueData`.
    pub data: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for ItemInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemInfo")
            .field("access_group", &self.access_group)
            .field("service", &self.service)
            .field("account", &self.account)
            .field("label", &self.label)
            .field("accessible", &self.accessible)
            .field("access_controlled", &self.access_controlled)
            .field("data", &format!("<{} bytes>", self.data.len()))
            .finish()
    }
}

struct StoredItem {
    info: ItemInfo,
    /// The biometric set the item is bound to, for items with an access control.
    biometric_set: Option<u64>,
}

struct InjectedFailure {
    /// The kind of call that fails; `None` counts calls of every kind.
    operation: Option<Operation>,
    /// How many calls of `operation` pass before this one fails.
    skip: usize,
    status: OsStatus,
}

struct State {
    items: Vec<StoredItem>,
    access_groups: Vec<String>,
    lock_state: LockState,
    biometric_set: u64,
    protection_updates: bool,
    authentication_results: VecDeque<OsStatus>,
    failures: Vec<InjectedFailure>,
    calls: Vec<Operation>,
    prompts: Vec<Option<String>>,
}

/// An in-memory Keychain with fault injection. See the module documentation.
pub struct FakeKeychain {
    state: Mutex<State>,
}

impl Default for FakeKeychain {
    fn default() -> Self {
        Self::new()
    }
}

/// The parts of a query the fake interprets.
#[derive(Default)]
struct Parsed<'a> {
    class: Option<ItemClass>,
    service: Option<&'a str>,
    account: Option<&'a str>,
    access_group: Option<&'a str>,
    label: Option<&'a str>,
    accessible: Option<Accessibility>,
    access_control: Option<(Accessibility, AccessConstraint)>,
    data: Option<&'a [u8]>,
    prompt: Option<&'a str>,
    return_data: bool,
    return_attributes: bool,
    limit: Option<MatchLimit>,
}

impl<'a> Parsed<'a> {
    fn new(query: &'a Query) -> Self {
        let mut parsed = Parsed::default();
        for attribute in query.attributes() {
            match attribute {
                Attribute::Class(class) => parsed.class = Some(*class),
                Attribute::Service(service) => parsed.service = Some(service),
                Attribute::Account(account) => parsed.account = Some(account),
                Attribute::AccessGroup(group) => parsed.access_group = Some(group),
                Attribute::Label(label) => parsed.label = Some(label),
                Attribute::Accessible(accessible) => parsed.accessible = Some(*accessible),
                Attribute::AccessControl(control) => parsed.access_control = Some((control.accessible, control.constraint)),
                Attribute::ValueData(data) => parsed.data = Some(data),
                Attribute::UseDataProtectionKeychain => {}
                Attribute::UseOperationPrompt(prompt) => parsed.prompt = Some(prompt),
                Attribute::ReturnData => parsed.return_data = true,
                Attribute::ReturnAttributes => parsed.return_attributes = true,
                Attribute::MatchLimit(limit) => parsed.limit = Some(*limit),
            }
        }
        parsed
    }

    fn require_class(&self) -> Result<(), OsStatus> {
        match self.class {
            Some(ItemClass::GenericPassword) => Ok(()),
            None => Err(OsStatus::PARAM),
        }
    }

    fn has_return_keys(&self) -> bool {
        self.return_data || self.return_attributes || self.limit.is_some()
    }

    fn matches(&self, item: &ItemInfo) -> bool {
        self.service.is_none_or(|service| service == item.service)
            && self.account.is_none_or(|account| account == item.account)
            && self.access_group.is_none_or(|group| group == item.access_group)
            && self.label.is_none_or(|label| Some(label) == item.label.as_deref())
            && self.accessible.is_none_or(|accessible| accessible == item.accessible)
    }
}

/// Returns whether items of `accessible` can be decrypted in `lock_state`.
fn class_available(accessible: Accessibility, lock_state: LockState) -> bool {
    use Accessibility::*;
    match lock_state {
        LockState::Unlocked => true,
        LockState::LockedAfterFirstUnlock => {
            matches!(accessible, AfterFirstUnlock | AfterFirstUnlockThisDeviceOnly | Always | AlwaysThisDeviceOnly)
        }
        LockState::LockedBeforeFirstUnlock => matches!(accessible, Always | AlwaysThisDeviceOnly),
    }
}

impl FakeKeychain {
    /// Creates an empty, unlocked Keychain for an app entitled to
    /// [`DEFAULT_TEST_ACCESS_GROUP`] only.
    pub fn new() -> Self {
        Self::with_access_groups(&[DEFAULT_TEST_ACCESS_GROUP])
    }

    /// Creates an empty Keychain for an app entitled to `groups`, the first being the default.
    /// With no groups, every call fails with `errSecMissingEntitlement`, as for an unsigned app.
    pub fn with_access_groups(groups: &[&str]) -> Self {
        FakeKeychain {
            state: Mutex::new(State {
                items: Vec::new(),
                access_groups: groups.iter().map(|group| (*group).to_owned()).collect(),
                lock_state: LockState::Unlocked,
                biometric_set: 1,
                protection_updates: false,
                authentication_results: VecDeque::new(),
                failures: Vec::new(),
                calls: Vec::new(),
                prompts: Vec::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the device's lock state.
    pub fn set_lock_state(&self, lock_state: LockState) {
        self.state().lock_state = lock_state;
    }

    /// Simulates a biometric enrolment change, which invalidates every item bound to the
    /// previous biometric set.
    pub fn change_biometric_set(&self) {
        self.state().biometric_set += 1;
    }

    /// Sets whether `SecItemUpdate` may change `kSecAttrAccessible` (the real Keychain can;
    /// the implementation over security-framework cannot, which is the default here).
    pub fn set_protection_updates(&self, allowed: bool) {
        self.state().protection_updates = allowed;
    }

    /// Makes the next authentication for an access-controlled item end with `status`
    /// (`errSecUserCanceled`, `errSecAuthFailed`). Without one, authentication succeeds.
    pub fn fail_next_authentication(&self, status: OsStatus) {
        self.state().authentication_results.push_back(status);
    }

    /// Makes the call of `operation` after the next `skip` ones fail with `status`.
    pub fn fail_call(&self, operation: Operation, skip: usize, status: OsStatus) {
        self.state().failures.push(InjectedFailure { operation: Some(operation), skip, status });
    }

    /// Makes the call after the next `skip` calls of any kind fail with `status`.
    pub fn fail_any_call(&self, skip: usize, status: OsStatus) {
        self.state().failures.push(InjectedFailure { operation: None, skip, status });
    }

    /// Removes the injected failures that have not fired yet.
    pub fn clear_failures(&self) {
        self.state().failures.clear();
    }

    /// Stores an item as other code would, into any access group and without any checks.
    pub fn insert_foreign_item(&self, info: ItemInfo) {
        self.state().items.push(StoredItem { info, biometric_set: None });
    }

    /// Returns every item, in the order they were added.
    pub fn items(&self) -> Vec<ItemInfo> {
        self.state().items.iter().map(|item| item.info.clone()).collect()
    }

    /// Returns the calls made so far.
    pub fn calls(&self) -> Vec<Operation> {
        self.state().calls.clone()
    }

    /// Forgets the calls made so far.
    pub fn clear_calls(&self) {
        self.state().calls.clear();
    }

    /// Returns the operation prompt of every authentication so far.
    pub fn prompts(&self) -> Vec<Option<String>> {
        self.state().prompts.clone()
    }
}

impl State {
    /// Records a call and returns the injected failure for it, if one is due.
    fn begin(&mut self, operation: Operation) -> Result<(), OsStatus> {
        self.calls.push(operation);
        let mut fired = None;
        self.failures.retain_mut(|failure| {
            if failure.operation.is_some_and(|kind| kind != operation) {
                return true;
            }
            if failure.skip == 0 && fired.is_none() {
                fired = Some(failure.status);
                return false;
            }
            failure.skip = failure.skip.saturating_sub(1);
            true
        });
        fired.map_or(Ok(()), Err)
    }

    /// Checks the access group of a query: a named group must be entitled.
    fn check_group(&self, parsed: &Parsed<'_>) -> Result<(), OsStatus> {
        if self.access_groups.is_empty() {
            return Err(OsStatus::MISSING_ENTITLEMENT);
        }
        match parsed.access_group {
            Some(group) if !self.access_groups.iter().any(|entitled| entitled == group) => {
                Err(OsStatus::MISSING_ENTITLEMENT)
            }
            _ => Ok(()),
        }
    }

    /// Returns the indices of the items the app can see that match `parsed`.
    fn matching(&self, parsed: &Parsed<'_>) -> Vec<usize> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, item)| self.access_groups.contains(&item.info.access_group) && parsed.matches(&item.info))
            .map(|(index, _)| index)
            .collect()
    }

    /// Runs the authentication that reading or changing the value of `index` needs.
    fn authenticate(&mut self, index: usize, prompt: Option<&str>) -> Result<(), OsStatus> {
        let Some(bound_to) = self.items[index].biometric_set else {
            return Ok(());
        };
        if bound_to != self.biometric_set {
            return Err(OsStatus::ITEM_NOT_FOUND);
        }
        self.prompts.push(prompt.map(str::to_owned));
        match self.authentication_results.pop_front() {
            Some(status) if status != OsStatus::SUCCESS => Err(status),
            _ => Ok(()),
        }
    }
}

impl KeychainApi for FakeKeychain {
    fn add(&self, attributes: &Query) -> Result<(), OsStatus> {
        let mut state = self.state();
        state.begin(Operation::Add)?;
        let parsed = Parsed::new(attributes);
        parsed.require_class()?;
        if parsed.has_return_keys() || parsed.prompt.is_some() || parsed.data.is_none() {
            return Err(OsStatus::PARAM);
        }

        let (accessible, biometric_set) = match (parsed.accessible, parsed.access_control) {
            (Some(_), Some(_)) => return Err(OsStatus::PARAM),
            (_, Some((accessible, AccessConstraint::BiometryCurrentSet))) => (accessible, Some(state.biometric_set)),
            // The Keychain's default class is kSecAttrAccessibleWhenUnlocked.
            (accessible, None) => (accessible.unwrap_or(Accessibility::WhenUnlocked), None),
        };

        state.check_group(&parsed)?;
        let access_group = match parsed.access_group {
            Some(group) => group.to_owned(),
            None => state.access_groups[0].clone(),
        };
        if !class_available(accessible, state.lock_state) {
            return Err(OsStatus::INTERACTION_NOT_ALLOWED);
        }

        let info = ItemInfo {
            access_group,
            service: parsed.service.unwrap_or_default().to_owned(),
            account: parsed.account.unwrap_or_default().to_owned(),
            label: parsed.label.map(str::to_owned),
            accessible,
            access_controlled: biometric_set.is_some(),
            data: Zeroizing::new(parsed.data.unwrap_or_default().to_vec()),
        };
        let duplicate = state.items.iter().any(|item| {
            item.info.access_group == info.access_group && item.info.service == info.service && item.info.account == info.account
        });
        if duplicate {
            return Err(OsStatus::DUPLICATE_ITEM);
        }
        state.items.push(StoredItem { info, biometric_set });
        Ok(())
    }

    fn copy_matching(&self, query: &Query) -> Result<Vec<FoundItem>, OsStatus> {
        let mut state = self.state();
        state.begin(Operation::CopyMatching)?;
        let parsed = Parsed::new(query);
        parsed.require_class()?;
        if parsed.data.is_some() {
            return Err(OsStatus::PARAM);
        }

        state.check_group(&parsed)?;
        let mut matched = state.matching(&parsed);
        if matched.is_empty() {
            return Err(OsStatus::ITEM_NOT_FOUND);
        }
        if parsed.limit != Some(MatchLimit::All) {
            matched.truncate(1);
        }

        let mut found = Vec::with_capacity(matched.len());
        for index in matched {
            if !class_available(state.items[index].info.accessible, state.lock_state) {
                return Err(OsStatus::INTERACTION_NOT_ALLOWED);
            }
            let mut result = FoundItem::default();
            if parsed.return_data {
                state.authenticate(index, parsed.prompt)?;
                result.data = Some(state.items[index].info.data.clone());
            }
            if parsed.return_attributes {
                let info = &state.items[index].info;
                result.account = Some(info.account.clone());
                result.access_group = Some(info.access_group.clone());
                result.label = info.label.clone();
                result.accessible = Some(info.accessible);
            }
            found.push(result);
        }
        Ok(found)
    }

    fn update(&self, query: &Query, changes: &Query) -> Result<(), OsStatus> {
        let mut state = self.state();
        state.begin(Operation::Update)?;
        let parsed = Parsed::new(query);
        parsed.require_class()?;
        if parsed.data.is_some() || parsed.has_return_keys() || parsed.access_control.is_some() {
            return Err(OsStatus::PARAM);
        }

        let change = Parsed::new(changes);
        let unsupported = change.class.is_some()
            || change.has_return_keys()
            || change.prompt.is_some()
            || change.service.is_some()
            || change.access_group.is_some();
        if unsupported {
            return Err(OsStatus::PARAM);
        }
        if (change.accessible.is_some() || change.access_control.is_some()) && !state.protection_updates {
            return Err(OsStatus::UNIMPLEMENTED);
        }
        if change.access_control.is_some() {
            // The backend never moves an item under biometric access control in place.
            return Err(OsStatus::UNIMPLEMENTED);
        }

        state.check_group(&parsed)?;
        let matched = state.matching(&parsed);
        if matched.is_empty() {
            return Err(OsStatus::ITEM_NOT_FOUND);
        }

        for &index in &matched {
            let current = state.items[index].info.accessible;
            let target = change.accessible.unwrap_or(current);
            if !class_available(current, state.lock_state) || !class_available(target, state.lock_state) {
                return Err(OsStatus::INTERACTION_NOT_ALLOWED);
            }
            if change.data.is_some() {
                state.authenticate(index, parsed.prompt)?;
            }
        }

        if let Some(account) = change.account {
            let clashes = matched.len() > 1
                || state.items.iter().enumerate().any(|(index, item)| {
                    !matched.contains(&index)
                        && item.info.access_group == state.items[matched[0]].info.access_group
                        && item.info.service == state.items[matched[0]].info.service
                        && item.info.account == account
                });
            if clashes {
                return Err(OsStatus::DUPLICATE_ITEM);
            }
        }

        for index in matched {
            let info = &mut state.items[index].info;
            if let Some(account) = change.account {
                info.account = account.to_owned();
            }
            if let Some(label) = change.label {
                info.label = Some(label.to_owned());
            }
            if let Some(accessible) = change.accessible {
                info.accessible = accessible;
            }
            if let Some(data) = change.data {
                info.data = Zeroizing::new(data.to_vec());
            }
        }
        Ok(())
    }

    fn delete(&self, query: &Query) -> Result<(), OsStatus> {
        let mut state = self.state();
        state.begin(Operation::Delete)?;
        let parsed = Parsed::new(query);
        parsed.require_class()?;
        if parsed.data.is_some() || parsed.has_return_keys() {
            return Err(OsStatus::PARAM);
        }
        state.check_group(&parsed)?;
        let matched = state.matching(&parsed);
        if matched.is_empty() {
            return Err(OsStatus::ITEM_NOT_FOUND);
        }
        let mut index = 0;
        state.items.retain(|_| {
            let keep = !matched.contains(&index);
            index += 1;
            keep
        });
        Ok(())
    }

    fn can_update_protection(&self) -> bool {
        self.state().protection_updates
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::keychain::query::{self, ItemProtection, Scope};

    fn scope() -> Scope {
        Scope::new("svc", DEFAULT_TEST_ACCESS_GROUP)
    }

    fn plain(accessible: Accessibility) -> ItemProtection {
        ItemProtection { accessible, require_authentication: false }
    }

    fn read(fake: &FakeKeychain, account: &str) -> Result<Vec<u8>, OsStatus> {
        let found = fake.copy_matching(&query::read_value(&scope(), account, None))?;
        Ok(found[0].data.as_ref().map(|data| data.to_vec()).unwrap_or_default())
    }

    #[test]
    fn add_twice_is_duplicate() {
        let fake = FakeKeychain::new();
        let item = query::new_item(&scope(), "k", plain(Accessibility::WhenUnlocked), b"1");
        assert_eq!(fake.add(&item), Ok(()));
        assert_eq!(fake.add(&item), Err(OsStatus::DUPLICATE_ITEM));
        assert_eq!(read(&fake, "k"), Ok(b"1".to_vec()));
    }

    #[test]
    fn update_changes_only_matches() {
        let fake = FakeKeychain::new();
        for account in ["a", "b"] {
            fake.add(&query::new_item(&scope(), account, plain(Accessibility::WhenUnlocked), b"old")).unwrap();
        }
        let target = query::item(&scope(), "a");
        assert_eq!(fake.update(&target, &query::value_change(b"new")), Ok(()));
        assert_eq!(read(&fake, "a"), Ok(b"new".to_vec()));
        assert_eq!(read(&fake, "b"), Ok(b"old".to_vec()));
        let missing = query::item(&scope(), "c");
        assert_eq!(fake.update(&missing, &query::value_change(b"x")), Err(OsStatus::ITEM_NOT_FOUND));
    }

    #[test]
    fn update_respects_label_filter() {
        let fake = FakeKeychain::new();
        let protection = plain(Accessibility::WhenUnlocked);
        fake.add(&query::new_item(&scope(), "a", protection, b"old")).unwrap();
        let other_label = plain(Accessibility::AfterFirstUnlock).label();
        let target = query::update_target(&scope(), "a", &other_label);
        assert_eq!(fake.update(&target, &query::value_change(b"new")), Err(OsStatus::ITEM_NOT_FOUND));
        assert_eq!(read(&fake, "a"), Ok(b"old".to_vec()));
    }

    #[test]
    fn protection_updates_are_opt_in() {
        let fake = FakeKeychain::new();
        fake.add(&query::new_item(&scope(), "a", plain(Accessibility::WhenUnlocked), b"old")).unwrap();
        let changes = query::value_and_protection_change(b"new", plain(Accessibility::AfterFirstUnlock));
        assert_eq!(fake.update(&query::item(&scope(), "a"), &changes), Err(OsStatus::UNIMPLEMENTED));
        fake.set_protection_updates(true);
        assert_eq!(fake.update(&query::item(&scope(), "a"), &changes), Ok(()));
        assert_eq!(fake.items()[0].accessible, Accessibility::AfterFirstUnlock);
    }

    #[test]
    fn locked_classes_reject_reads_and_adds() {
        let fake = FakeKeychain::new();
        fake.add(&query::new_item(&scope(), "when", plain(Accessibility::WhenUnlocked), b"1")).unwrap();
        fake.add(&query::new_item(&scope(), "after", plain(Accessibility::AfterFirstUnlock), b"2")).unwrap();
        fake.add(&query::new_item(&scope(), "always", plain(Accessibility::Always), b"3")).unwrap();

        fake.set_lock_state(LockState::LockedAfterFirstUnlock);
        assert_eq!(read(&fake, "when"), Err(OsStatus::INTERACTION_NOT_ALLOWED));
        assert_eq!(read(&fake, "after"), Ok(b"2".to_vec()));
        let new_item = query::new_item(&scope(), "new", plain(Accessibility::WhenUnlocked), b"4");
        assert_eq!(fake.add(&new_item), Err(OsStatus::INTERACTION_NOT_ALLOWED));

        fake.set_lock_state(LockState::LockedBeforeFirstUnlock);
        assert_eq!(read(&fake, "after"), Err(OsStatus::INTERACTION_NOT_ALLOWED));
        assert_eq!(read(&fake, "always"), Ok(b"3".to_vec()));
        assert_eq!(fake.delete(&query::item(&scope(), "when")), Ok(()));
    }

    #[test]
    fn groups_are_entitled_and_apart() {
        let fake = FakeKeychain::with_access_groups(&["T.app", "T.shared"]);
        let app = Scope::new("svc", "T.app");
        let shared = Scope::new("svc", "T.shared");
        fake.add(&query::new_item(&app, "k", plain(Accessibility::WhenUnlocked), b"app")).unwrap();
        fake.add(&query::new_item(&shared, "k", plain(Accessibility::WhenUnlocked), b"shared")).unwrap();
        let found = fake.copy_matching(&query::read_value(&shared, "k", None)).unwrap();
        assert_eq!(found[0].data.as_deref().map(Vec::as_slice), Some(b"shared".as_slice()));

        let other = Scope::new("svc", "T.other");
        assert_eq!(fake.copy_matching(&query::read_value(&other, "k", None)), Err(OsStatus::MISSING_ENTITLEMENT));

        fake.add(&query::new_probe("p")).unwrap();
        let probe = fake.copy_matching(&query::probe_attributes("p")).unwrap();
        assert_eq!(probe[0].access_group.as_deref(), Some("T.app"));
    }

    #[test]
    fn no_groups_means_missing_entitlement() {
        let fake = FakeKeychain::with_access_groups(&[]);
        assert_eq!(fake.add(&query::new_probe("p")), Err(OsStatus::MISSING_ENTITLEMENT));
    }

    #[test]
    fn biometric_change_invalidates_value_only() {
        let fake = FakeKeychain::new();
        let protection = ItemProtection { accessible: Accessibility::WhenUnlocked, require_authentication: true };
        let item = query::new_item(&scope(), "k", protection, b"1");
        fake.add(&item).unwrap();
        assert_eq!(read(&fake, "k"), Ok(b"1".to_vec()));
        fake.change_biometric_set();
        assert_eq!(read(&fake, "k"), Err(OsStatus::ITEM_NOT_FOUND));
        assert!(fake.copy_matching(&query::read_attributes(&scope(), "k")).is_ok());
        assert_eq!(fake.add(&item), Err(OsStatus::DUPLICATE_ITEM));
        assert_eq!(fake.delete(&query::item(&scope(), "k")), Ok(()));
        assert_eq!(fake.add(&item), Ok(()));
        assert_eq!(read(&fake, "k"), Ok(b"1".to_vec()));
    }

    #[test]
    fn authentication_outcomes_and_prompts() {
        let fake = FakeKeychain::new();
        let protection = ItemProtection { accessible: Accessibility::WhenUnlocked, require_authentication: true };
        fake.add(&query::new_item(&scope(), "k", protection, b"1")).unwrap();
        fake.fail_next_authentication(OsStatus::USER_CANCELED);
        let prompted = query::read_value(&scope(), "k", Some("Unlock"));
        assert_eq!(fake.copy_matching(&prompted), Err(OsStatus::USER_CANCELED));
        assert!(fake.copy_matching(&prompted).is_ok());
        assert_eq!(fake.prompts(), vec![Some("Unlock".to_owned()), Some("Unlock".to_owned())]);
    }

    #[test]
    fn rejects_malformed_calls() {
        let fake = FakeKeychain::new();
        let no_class = Query::new().with(Attribute::Service("s".to_owned()));
        assert_eq!(fake.delete(&no_class), Err(OsStatus::PARAM));
        let both = query::new_item(&scope(), "k", plain(Accessibility::WhenUnlocked), b"1")
            .with(Attribute::Accessible(Accessibility::Always))
            .with(ItemProtection { accessible: Accessibility::WhenUnlocked, require_authentication: true }.attribute());
        assert_eq!(fake.add(&both), Err(OsStatus::PARAM));
        let returning = query::new_item(&scope(), "k", plain(Accessibility::WhenUnlocked), b"1").with(Attribute::ReturnData);
        assert_eq!(fake.add(&returning), Err(OsStatus::PARAM));
    }

    #[test]
    fn injected_failures_fire_once_in_order() {
        let fake = FakeKeychain::new();
        fake.fail_call(Operation::Add, 1, OsStatus::NOT_AVAILABLE);
        let item = |account: &str| query::new_item(&scope(), account, plain(Accessibility::WhenUnlocked), b"1");
        assert_eq!(fake.add(&item("a")), Ok(()));
        assert_eq!(fake.add(&item("b")), Err(OsStatus::NOT_AVAILABLE));
        assert_eq!(fake.add(&item("b")), Ok(()));
        assert_eq!(fake.calls(), vec![Operation::Add; 3]);
    }
}
