package dev.securestore.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.json.JSONObject;

/**
 * The storage design of expo-secure-store on Android (SDK 54, {@code SecureStoreModule} and
 * {@code AESEncryptor}), rebuilt on the JVM for comparison:
 *
 * <ul>
 *   <li>One preferences file ({@code SecureStore.xml}) holds every entry under the plain
 *       name {@code "<service>-<key>"}.
 *   <li>A value is encrypted with {@code AES/GCM/NoPadding} through JCA, with a fresh IV
 *       chosen by the cipher, and stored as a JSON object of base64 ciphertext, base64 IV,
 *       tag length, scheme and flags.
 *   <li>Every write is {@code edit().putString(..).commit()}: the whole file is rewritten
 *       and fsynced (see {@link PreferencesFile}).
 * </ul>
 *
 * <p>On Android the AES key lives in Android Keystore and each {@code Cipher.init} and
 * {@code doFinal} goes to the Keystore service; here it is a JCA software key, so this
 * peer's crypto is faster than on a phone.
 */
final class ExpoStyleStore {
    private static final String TRANSFORMATION = "AES/GCM/NoPadding";

    private final PreferencesFile preferences;
    private final SecretKey key;

    private ExpoStyleStore(PreferencesFile preferences, SecretKey key) {
        this.preferences = preferences;
        this.key = key;
    }

    static ExpoStyleStore open(Path directory) throws IOException, GeneralSecurityException {
        java.nio.file.Files.createDirectories(directory);
        KeyGenerator generator = KeyGenerator.getInstance("AES");
        generator.init(256);
        return new ExpoStyleStore(PreferencesFile.open(directory.resolve("SecureStore.xml")), generator.generateKey());
    }

    String getItem(String key, String service) throws GeneralSecurityException {
        String stored = preferences.get(service + "-" + key);
        if (stored == null) {
            return null;
        }
        JSONObject item = new JSONObject(stored);
        if (!"aes".equals(item.optString("scheme"))) {
            throw new GeneralSecurityException("unknown scheme for " + key);
        }
        byte[] ciphertext = Base64.getDecoder().decode(item.getString("ct"));
        byte[] iv = Base64.getDecoder().decode(item.getString("iv"));
        Cipher cipher = Cipher.getInstance(TRANSFORMATION);
        cipher.init(Cipher.DECRYPT_MODE, this.key, new GCMParameterSpec(item.getInt("tlen"), iv));
        return new String(cipher.doFinal(ciphertext), StandardCharsets.UTF_8);
    }

    void setItem(String key, String value, String service) throws GeneralSecurityException, IOException {
        preferences.commit(Map.of(service + "-" + key, encrypt(value, service)));
    }

    /** Writes many entries with one commit, to fill the store quickly. */
    void setItems(Map<String, String> values, String service) throws GeneralSecurityException, IOException {
        Map<String, String> encrypted = new java.util.HashMap<>();
        for (Map.Entry<String, String> entry : values.entrySet()) {
            encrypted.put(service + "-" + entry.getKey(), encrypt(entry.getValue(), service));
        }
        preferences.commit(encrypted);
    }

    private String encrypt(String value, String service) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance(TRANSFORMATION);
        cipher.init(Cipher.ENCRYPT_MODE, key);
        GCMParameterSpec spec = cipher.getParameters().getParameterSpec(GCMParameterSpec.class);
        byte[] ciphertext = cipher.doFinal(value.getBytes(StandardCharsets.UTF_8));
        return new JSONObject()
                .put("ct", Base64.getEncoder().encodeToString(ciphertext))
                .put("iv", Base64.getEncoder().encodeToString(spec.getIV()))
                .put("tlen", spec.getTLen())
                .put("scheme", "aes")
                .put("usesKeystoreSuffix", true)
                .put("keystoreAlias", service)
                .put("requireAuthentication", false)
                .toString();
    }
}
