//! Parses arbitrary bytes as an entry file and as a root key file. Neither parser may
//! panic, and whatever parses must be exactly what the encoder writes for those fields, so
//! that no two byte strings decode to the same envelope.

#![no_main]

use libfuzzer_sys::fuzz_target;
use securestore::envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = envelope::parse_entry(data) {
        let header = envelope::entry_header(&entry.key_id, entry.wrapped_data_key);
        assert_eq!(entry.header, header.as_slice());
        assert_eq!(envelope::encode_entry(entry.header, entry.sealed_name, entry.sealed_value), data);
    }
    if let Ok(root) = envelope::parse_root_key(data) {
        assert_eq!(envelope::encode_root_key(&root.key_id, root.wrapped), data);
    }
});
