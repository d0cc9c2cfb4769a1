package dev.securestore.internal

import android.content.Context
import android.os.Build
import java.io.File
import java.io.RandomAccessFile
import java.security.InvalidAlgorithmParameterException
import java.security.KeyFactory
import java.security.KeyStore
import java.security.MessageDigest
import java.security.PublicKey
import java.security.spec.MGF1ParameterSpec
import java.security.spec.X509EncodedKeySpec
import java.util.concurrent.ConcurrentHashMap
import javax.crypto.AEADBadTagException
import javax.crypto.BadPaddingException
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.OAEPParameterSpec
import javax.crypto.spec.PSource

/**
 * Android's [PlatformKeyProvider]: the platform keys live in Android Keystore and never leave
 * it. The core requests one key per alias, that is per service and authentication kind.
 *
 * Plain entries use an AES-256-GCM key. Wrapped bytes are [FORMAT_AES_GCM], the 12-byte IV that
 * Keystore chose, then the ciphertext and 128-bit tag, with `alias, 0, aad` as associated data.
 *
 * Authenticated entries use an RSA-2048 key pair whose private key needs a strong biometric for
 * every use and is invalidated by a new enrolment. Wrapping uses only the public key, outside
 * Keystore, so writes never prompt; unwrapping decrypts with the private key after
 * `BiometricPrompt`. Keystore's RSA-OAEP accepts no label, so the SHA-256 of `alias, 0, aad`
 * goes in front of the key inside the OAEP plaintext and is checked after decryption. Wrapped
 * bytes are [FORMAT_RSA_OAEP], the first 8 bytes of the public key's SHA-256, then the OAEP
 * ciphertext. The fingerprint lets a read recognise bytes of a replaced key without prompting.
 *
 * [wrap] creates a missing key under [creationLockFile], so processes and threads that write
 * at the same moment keep one key per alias. [unwrap] never creates keys. Only a key that is
 * gone for good is reported as [KeyProviderException.KEY_LOST] (see [keystoreFailure]), and this
 * class deletes a key only when the core requests it through [deleteKey].
 */
internal class AndroidKeystoreKeyProvider(
    private val context: Context,
    private val creationLockFile: File,
) : PlatformKeyProvider {
    private val keys = KeystoreKeys(context)
    private val biometricGate by lazy { BiometricGate(context) }

    override fun wrap(alias: String, aad: ByteArray, authenticated: Boolean, prompt: String?, key: ByteArray): ByteArray =
        if (authenticated) wrapWithAuthenticatedKey(alias, aad, key) else wrapWithPlainKey(alias, aad, key)

    override fun unwrap(alias: String, aad: ByteArray, authenticated: Boolean, prompt: String?, wrapped: ByteArray): ByteArray =
        if (authenticated) unwrapWithAuthenticatedKey(alias, aad, prompt, wrapped) else unwrapWithPlainKey(alias, aad, wrapped)

    override fun deleteKey(alias: String): Unit =
        keystoreCall("delete", alias) {
            val store = keyStore()
            if (store.containsAlias(alias)) store.deleteEntry(alias)
        }

    override fun protection(authenticated: Boolean): Int =
        try {
            val store = keyStore()
            val aliases = store.aliases().toList().filter { it.startsWith(ALIAS_PREFIX) && it.endsWith(AUTHENTICATED_SUFFIX) == authenticated }
            keys.weakestProtection(store, aliases)
        } catch (e: Exception) {
            // A report that cannot be read claims the weakest level, as the core does.
            ProtectionCode.SOFTWARE
        }

    private fun wrapWithPlainKey(alias: String, aad: ByteArray, key: ByteArray): ByteArray =
        keystoreCall("wrap a key with", alias) {
            val secretKey = plainKey(alias) ?: createOnce { plainKey(alias) ?: keys.generateAesKey(alias) }
            val cipher = Cipher.getInstance(AES_GCM)
            cipher.init(Cipher.ENCRYPT_MODE, secretKey)
            cipher.updateAAD(boundAad(alias, aad))
            val sealed = cipher.doFinal(key)
            val iv = cipher.iv
            check(iv.size == GCM_IV_BYTES) { "Keystore chose a ${iv.size}-byte GCM IV; this format stores 12 bytes" }
            byteArrayOf(FORMAT_AES_GCM) + iv + sealed
        }

    private fun unwrapWithPlainKey(alias: String, aad: ByteArray, wrapped: ByteArray): ByteArray =
        keystoreCall("unwrap a key with", alias) {
            if (wrapped.size < AES_HEADER_BYTES + GCM_TAG_BITS / 8 || wrapped[0] != FORMAT_AES_GCM) {
                throw keyLost("the bytes were not wrapped by an AES key of this provider")
            }
            val secretKey = plainKey(alias) ?: throw keyLost("Keystore has no key $alias")
            val cipher = Cipher.getInstance(AES_GCM)
            cipher.init(Cipher.DECRYPT_MODE, secretKey, GCMParameterSpec(GCM_TAG_BITS, wrapped, 1, GCM_IV_BYTES))
            cipher.updateAAD(boundAad(alias, aad))
            try {
                cipher.doFinal(wrapped, AES_HEADER_BYTES, wrapped.size - AES_HEADER_BYTES)
            } catch (e: AEADBadTagException) {
                throw keyLost("the key $alias did not wrap these bytes", e)
            }
        }

    private fun wrapWithAuthenticatedKey(alias: String, aad: ByteArray, key: ByteArray): ByteArray {
        requireBiometricPrompt()
        return keystoreCall("wrap a key with", alias) {
            val entry = authenticatedKeyPair(alias) ?: createOnce { authenticatedKeyPair(alias) ?: generateAuthenticatedKeyPair(alias) }
            // A new biometric enrolment invalidates the private key but not the public one, so the
            // private key is checked first: bytes wrapped for an invalidated key could never be
            // read. Initialising the cipher needs no authentication and throws
            // KeyPermanentlyInvalidatedException for an invalidated key, which gives KEY_LOST, so
            // the core deletes the key and wraps again with a new one.
            Cipher.getInstance(RSA_OAEP).init(Cipher.DECRYPT_MODE, entry.privateKey, OAEP_PARAMETERS)

            val publicKey = unrestricted(entry.certificate.publicKey)
            val cipher = Cipher.getInstance(RSA_OAEP)
            cipher.init(Cipher.ENCRYPT_MODE, publicKey, OAEP_PARAMETERS)
            val plaintext = sha256(boundAad(alias, aad)) + key
            try {
                byteArrayOf(FORMAT_RSA_OAEP) + fingerprint(publicKey) + cipher.doFinal(plaintext)
            } finally {
                plaintext.fill(0)
            }
        }
    }

    private fun unwrapWithAuthenticatedKey(alias: String, aad: ByteArray, prompt: String?, wrapped: ByteArray): ByteArray {
        requireBiometricPrompt()
        if (wrapped.size <= RSA_HEADER_BYTES || wrapped[0] != FORMAT_RSA_OAEP) {
            throw keyLost("the bytes were not wrapped by an RSA key of this provider")
        }
        val cipher = keystoreCall("unwrap a key with", alias) {
            val entry = authenticatedKeyPair(alias) ?: throw keyLost("Keystore has no key $alias")
            val expected = wrapped.copyOfRange(1, RSA_HEADER_BYTES)
            if (!fingerprint(entry.certificate.publicKey).contentEquals(expected)) {
                throw keyLost("the bytes were wrapped by an earlier key $alias, which has been replaced")
            }
            Cipher.getInstance(RSA_OAEP).apply { init(Cipher.DECRYPT_MODE, entry.privateKey, OAEP_PARAMETERS) }
        }
        val unlocked = biometricGate.unlock(cipher, prompt)
        val plaintext = keystoreCall("unwrap a key with", alias) {
            try {
                unlocked.doFinal(wrapped, RSA_HEADER_BYTES, wrapped.size - RSA_HEADER_BYTES)
            } catch (e: BadPaddingException) {
                throw keyLost("the key $alias did not wrap these bytes", e)
            }
        }
        try {
            val digest = sha256(boundAad(alias, aad))
            if (plaintext.size <= digest.size || !MessageDigest.isEqual(digest, plaintext.copyOfRange(0, digest.size))) {
                throw keyLost("the bytes were wrapped for another entry")
            }
            return plaintext.copyOfRange(digest.size, plaintext.size)
        } finally {
            plaintext.fill(0)
        }
    }

    private fun generateAuthenticatedKeyPair(alias: String): KeyStore.PrivateKeyEntry {
        if (!canUseStrongBiometrics(context)) {
            throw KeyProviderException(
                KeyProviderException.UNSUPPORTED,
                "this device has no strong biometric enrolled, which an Android Keystore key that needs " +
                    "authentication for every use requires; enrol a fingerprint or face in the system settings",
            )
        }
        try {
            keys.generateAuthenticatedKeyPair(alias)
        } catch (e: Exception) {
            // Keystore rejects such a key with one of these two when no biometric is enrolled or
            // no secure lock screen is set. keystoreCall converts every other failure.
            if (e !is IllegalStateException && e !is InvalidAlgorithmParameterException) throw e
            throw KeyProviderException(
                KeyProviderException.UNSUPPORTED,
                "Android Keystore cannot create a key that needs authentication on this device: ${e.message}",
                e,
            )
        }
        return authenticatedKeyPair(alias) ?: throw keystoreFailure("create", alias, IllegalStateException("the new key pair was not stored"))
    }

    private fun plainKey(alias: String): SecretKey? =
        when (val key = keyStore().getKey(alias, null)) {
            null -> null
            is SecretKey -> key
            else -> throw keyLost("the Keystore entry $alias is not an AES key")
        }

    private fun authenticatedKeyPair(alias: String): KeyStore.PrivateKeyEntry? =
        when (val entry = keyStore().getEntry(alias, null)) {
            null -> null
            is KeyStore.PrivateKeyEntry -> entry
            else -> throw keyLost("the Keystore entry $alias is not an RSA key pair")
        }

    private fun keyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    /**
     * Runs [create] while holding a lock that threads of this process and other processes of the
     * app share, so a key is created once even when several writers find it missing.
     */
    private fun <T> createOnce(create: () -> T): T {
        val monitor = creationMonitors.getOrPut(creationLockFile.absolutePath) { Any() }
        synchronized(monitor) {
            creationLockFile.parentFile?.mkdirs()
            RandomAccessFile(creationLockFile, "rw").use { file ->
                val lock = file.channel.lock()
                try {
                    return create()
                } finally {
                    lock.release()
                }
            }
        }
    }

    private fun requireBiometricPrompt() {
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.P) {
            throw KeyProviderException(
                KeyProviderException.UNSUPPORTED,
                "requireAuthentication needs Android 9 (API 28) or newer, where the system BiometricPrompt exists; " +
                    "this device runs API ${Build.VERSION.SDK_INT}",
            )
        }
    }

    /** Runs a Keystore operation on [alias], converting its failures with [keystoreFailure]. */
    private inline fun <T> keystoreCall(operation: String, alias: String, block: () -> T): T =
        try {
            block()
        } catch (e: KeyProviderException) {
            throw e
        } catch (e: Exception) {
            throw keystoreFailure(operation, alias, e)
        }

    private companion object {
        /** The prefix of every alias the core requests: "securestore.v<format>.<service id>", plus ".auth" for authenticated entries. */
        const val ALIAS_PREFIX = "securestore."
        const val AUTHENTICATED_SUFFIX = ".auth"

        const val FORMAT_AES_GCM: Byte = 1
        const val FORMAT_RSA_OAEP: Byte = 2
        const val AES_GCM = "AES/GCM/NoPadding"
        const val GCM_IV_BYTES = 12
        const val GCM_TAG_BITS = 128
        const val AES_HEADER_BYTES = 1 + GCM_IV_BYTES
        const val FINGERPRINT_BYTES = 8
        const val RSA_HEADER_BYTES = 1 + FINGERPRINT_BYTES
        const val RSA_OAEP = "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"

        /**
         * OAEP with SHA-256 and MGF1 with SHA-1, stated on both sides: Keystore decrypts with
         * MGF1-SHA-1 on every API level, while software providers default MGF1 to the main digest.
         */
        val OAEP_PARAMETERS = OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT)

        val creationMonitors = ConcurrentHashMap<String, Any>()

        fun keyLost(reason: String, cause: Throwable? = null) = KeyProviderException(KeyProviderException.KEY_LOST, reason, cause)

        /** Binds the alias too, so bytes wrapped for one alias never unwrap under another. */
        fun boundAad(alias: String, aad: ByteArray): ByteArray = alias.encodeToByteArray() + 0 + aad

        fun sha256(bytes: ByteArray): ByteArray = MessageDigest.getInstance("SHA-256").digest(bytes)

        fun fingerprint(publicKey: PublicKey): ByteArray = sha256(publicKey.encoded).copyOf(FINGERPRINT_BYTES)

        /** Copies a Keystore public key into an ordinary one, so encryption runs in software and needs no authentication. */
        fun unrestricted(publicKey: PublicKey): PublicKey =
            KeyFactory.getInstance(publicKey.algorithm).generatePublic(X509EncodedKeySpec(publicKey.encoded))
    }
}
