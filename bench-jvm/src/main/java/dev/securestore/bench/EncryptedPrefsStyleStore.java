package dev.securestore.bench;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.DeterministicAead;
import com.google.crypto.tink.KeyTemplates;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.daead.DeterministicAeadConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * The storage design of androidx.security's {@code EncryptedSharedPreferences} (1.1.0),
 * rebuilt on the JVM with Tink for comparison:
 *
 * <ul>
 *   <li>One preferences file holds every entry. A key name is encrypted deterministically
 *       with Tink's AES256_SIV (associated data: the file name) and stored in base64.
 *   <li>A value is encoded as type id, length and UTF-8 bytes, encrypted with Tink's
 *       AES256_GCM with the encrypted key name as associated data, and stored in base64.
 *   <li>Both keysets are stored in the same file, encrypted by a master key (Android
 *       Keystore there, a Tink AEAD here).
 *   <li>Every write is {@code edit().putString(..).commit()}: the whole file is rewritten
 *       and fsynced (see {@link PreferencesFile}).
 * </ul>
 */
final class EncryptedPrefsStyleStore {
    private static final String FILE_NAME = "secret_shared_prefs";
    private static final String KEY_KEYSET_ALIAS = "__androidx_security_crypto_encrypted_prefs_key_keyset__";
    private static final String VALUE_KEYSET_ALIAS = "__androidx_security_crypto_encrypted_prefs_value_keyset__";
    private static final int STRING_TYPE = 0;

    private final PreferencesFile preferences;
    private final DeterministicAead keyCipher;
    private final Aead valueCipher;

    private EncryptedPrefsStyleStore(PreferencesFile preferences, DeterministicAead keyCipher, Aead valueCipher) {
        this.preferences = preferences;
        this.keyCipher = keyCipher;
        this.valueCipher = valueCipher;
    }

    static EncryptedPrefsStyleStore open(Path directory) throws IOException, GeneralSecurityException {
        java.nio.file.Files.createDirectories(directory);
        AeadConfig.register();
        DeterministicAeadConfig.register();
        KeysetHandle masterKey = KeysetHandle.generateNew(KeyTemplates.get("AES256_GCM"));
        KeysetHandle keyKeyset = KeysetHandle.generateNew(KeyTemplates.get("AES256_SIV"));
        KeysetHandle valueKeyset = KeysetHandle.generateNew(KeyTemplates.get("AES256_GCM"));

        PreferencesFile preferences = PreferencesFile.open(directory.resolve(FILE_NAME + ".xml"));
        Aead master = masterKey.getPrimitive(RegistryConfiguration.get(), Aead.class);
        byte[] empty = new byte[0];
        preferences.commit(Map.of(
                KEY_KEYSET_ALIAS, HexFormat.of().formatHex(TinkProtoKeysetFormat.serializeEncryptedKeyset(keyKeyset, master, empty)),
                VALUE_KEYSET_ALIAS, HexFormat.of().formatHex(TinkProtoKeysetFormat.serializeEncryptedKeyset(valueKeyset, master, empty))));
        return new EncryptedPrefsStyleStore(
                preferences,
                keyKeyset.getPrimitive(RegistryConfiguration.get(), DeterministicAead.class),
                valueKeyset.getPrimitive(RegistryConfiguration.get(), Aead.class));
    }

    String getString(String key) throws GeneralSecurityException {
        String encryptedKey = encryptKey(key);
        String stored = preferences.get(encryptedKey);
        if (stored == null) {
            return null;
        }
        byte[] plaintext = valueCipher.decrypt(Base64.getDecoder().decode(stored), encryptedKey.getBytes(StandardCharsets.UTF_8));
        ByteBuffer buffer = ByteBuffer.wrap(plaintext);
        if (buffer.getInt() != STRING_TYPE) {
            throw new GeneralSecurityException("the value of " + key + " is not a string");
        }
        int length = buffer.getInt();
        return new String(plaintext, buffer.position(), length, StandardCharsets.UTF_8);
    }

    void putString(String key, String value) throws GeneralSecurityException, IOException {
        Map.Entry<String, String> pair = encryptPair(key, value);
        preferences.commit(Map.of(pair.getKey(), pair.getValue()));
    }

    /** Writes many entries with one commit, to fill the store quickly. */
    void putStrings(Map<String, String> values) throws GeneralSecurityException, IOException {
        Map<String, String> encrypted = new HashMap<>();
        for (Map.Entry<String, String> entry : values.entrySet()) {
            Map.Entry<String, String> pair = encryptPair(entry.getKey(), entry.getValue());
            encrypted.put(pair.getKey(), pair.getValue());
        }
        preferences.commit(encrypted);
    }

    private Map.Entry<String, String> encryptPair(String key, String value) throws GeneralSecurityException {
        byte[] text = value.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(Integer.BYTES + Integer.BYTES + text.length);
        buffer.putInt(STRING_TYPE).putInt(text.length).put(text);
        String encryptedKey = encryptKey(key);
        byte[] ciphertext = valueCipher.encrypt(buffer.array(), encryptedKey.getBytes(StandardCharsets.UTF_8));
        return Map.entry(encryptedKey, Base64.getEncoder().encodeToString(ciphertext));
    }

    private String encryptKey(String key) throws GeneralSecurityException {
        byte[] encrypted = keyCipher.encryptDeterministically(
                key.getBytes(StandardCharsets.UTF_8), FILE_NAME.getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(encrypted);
    }
}
