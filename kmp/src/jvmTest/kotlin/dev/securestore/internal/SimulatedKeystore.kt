package dev.securestore.internal

import java.security.SecureRandom
import java.util.Collections
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * A [PlatformKeyProvider] that behaves like Android Keystore at the bridge, with switches
 * that reproduce its failures. The Rust core calls it through the real JNI bridge.
 *
 * Keys are AES-256-GCM keys in memory, one per alias, and survive reopening a store as
 * Keystore keys survive an app restart. Aliases ending in `.auth` stand for the
 * authentication-bound key: wrapping with them needs no user, unwrapping "shows a prompt",
 * recorded in [prompts], whose result [promptFailure] decides. Wrapped bytes carry the
 * generation of the key that wrapped them, so bytes of a replaced key are reported lost
 * without a prompt, as the Android provider does with its public-key fingerprint.
 */
internal class SimulatedKeystore : PlatformKeyProvider {
    /** One call from the core, with the alias and authentication kind it named. */
    data class Call(val method: String, val alias: String, val authenticated: Boolean, val prompt: String? = null)

    private class StoredKey(val secret: SecretKey, val generation: Int)

    private val random = SecureRandom()
    private val lock = Any()
    private val keys = HashMap<String, StoredKey>()
    private val invalidated = HashSet<String>()
    private var generations = 0

    /** Every call, in order. */
    val calls: MutableList<Call> = Collections.synchronizedList(mutableListOf())

    /** The prompt text of every authentication the user was asked for. */
    val prompts: MutableList<String?> = Collections.synchronizedList(mutableListOf())

    /** Aliases of the keys created, in order. */
    val created: MutableList<String> = Collections.synchronizedList(mutableListOf())

    /** Aliases passed to [deleteKey], in order. */
    val deleted: MutableList<String> = Collections.synchronizedList(mutableListOf())

    /** A [KeyProviderException] code that every operation on any key throws, as a failing Keystore does, or null. */
    @Volatile
    var keystoreFailure: Int? = null

    /** A [KeyProviderException] code that every operation on an authentication-bound key throws, or null. */
    @Volatile
    var authenticatedKeyFailure: Int? = null

    /** A [KeyProviderException] code that the authentication prompt ends with, or null for success. */
    @Volatile
    var promptFailure: Int? = null

    /** An exception thrown by every operation on any key, to test failures that are not typed. */
    @Volatile
    var foreignFailure: RuntimeException? = null

    /** Whether keys that need authentication can be created, as with a strong biometric enrolled. */
    @Volatile
    var biometricsEnrolled: Boolean = true

    /** The aliases of the keys that exist now. */
    val aliases: Set<String> get() = synchronized(lock) { keys.keys.toSet() }

    /** Forgets every key, as after a backup restored on a new device or a reinstall. */
    fun loseAllKeys(): Unit = synchronized(lock) { keys.clear() }

    /** Forgets the authentication-bound keys only, keeping the plain ones. */
    fun loseAuthenticatedKeys(): Unit = synchronized(lock) { keys.keys.removeAll { it.endsWith(AUTH_SUFFIX) } }

    /** Marks every authentication-bound key permanently invalid, as a new biometric enrolment does. */
    fun invalidateAuthenticatedKeys(): Unit = synchronized(lock) {
        invalidated += keys.keys.filter { it.endsWith(AUTH_SUFFIX) }
    }

    override fun wrap(alias: String, aad: ByteArray, authenticated: Boolean, prompt: String?, key: ByteArray): ByteArray {
        calls += Call("wrap", alias, authenticated)
        checkKind(alias, authenticated)
        failIfConfigured(authenticated)
        val stored = synchronized(lock) {
            if (alias in invalidated) throw lost("the key $alias was permanently invalidated")
            keys[alias] ?: createKey(alias, authenticated)
        }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        val iv = ByteArray(IV_BYTES).also(random::nextBytes)
        cipher.init(Cipher.ENCRYPT_MODE, stored.secret, GCMParameterSpec(TAG_BITS, iv))
        cipher.updateAAD(alias.encodeToByteArray() + 0 + aad)
        return intToBytes(stored.generation) + iv + cipher.doFinal(key)
    }

    override fun unwrap(alias: String, aad: ByteArray, authenticated: Boolean, prompt: String?, wrapped: ByteArray): ByteArray {
        calls += Call("unwrap", alias, authenticated, prompt)
        checkKind(alias, authenticated)
        failIfConfigured(authenticated)
        val stored = synchronized(lock) {
            if (alias in invalidated) throw lost("the key $alias was permanently invalidated")
            keys[alias] ?: throw lost("no key $alias")
        }
        if (wrapped.size < 4 + IV_BYTES || bytesToInt(wrapped) != stored.generation) {
            throw lost("the bytes were wrapped by a key that has been replaced")
        }
        if (authenticated) {
            prompts += prompt
            promptFailure?.let { code -> throw KeyProviderException(code, "simulated prompt result $code") }
        }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, stored.secret, GCMParameterSpec(TAG_BITS, wrapped, 4, IV_BYTES))
        cipher.updateAAD(alias.encodeToByteArray() + 0 + aad)
        try {
            return cipher.doFinal(wrapped, 4 + IV_BYTES, wrapped.size - 4 - IV_BYTES)
        } catch (e: AEADBadTagException) {
            throw lost("the key $alias did not wrap these bytes")
        }
    }

    override fun deleteKey(alias: String) {
        calls += Call("deleteKey", alias, alias.endsWith(AUTH_SUFFIX))
        failIfConfigured(alias.endsWith(AUTH_SUFFIX))
        deleted += alias
        synchronized(lock) {
            keys.remove(alias)
            invalidated.remove(alias)
        }
    }

    override fun protection(authenticated: Boolean): Int = ProtectionCode.TRUSTED_ENVIRONMENT

    private fun createKey(alias: String, authenticated: Boolean): StoredKey {
        if (authenticated && !biometricsEnrolled) {
            throw KeyProviderException(KeyProviderException.UNSUPPORTED, "no strong biometric is enrolled")
        }
        val secret = KeyGenerator.getInstance("AES").apply { init(256, random) }.generateKey()
        return StoredKey(secret, ++generations).also {
            keys[alias] = it
            created += alias
        }
    }

    private fun failIfConfigured(authenticated: Boolean) {
        foreignFailure?.let { throw it }
        keystoreFailure?.let { code -> throw KeyProviderException(code, "simulated Keystore failure $code") }
        if (authenticated) {
            authenticatedKeyFailure?.let { code -> throw KeyProviderException(code, "simulated failure $code of the authentication-bound key") }
        }
    }

    /** Checks that the core names authentication-bound keys, and only those, with the suffix. */
    private fun checkKind(alias: String, authenticated: Boolean) {
        check(alias.endsWith(AUTH_SUFFIX) == authenticated) { "alias $alias used with authenticated=$authenticated" }
    }

    private fun lost(reason: String) = KeyProviderException(KeyProviderException.KEY_LOST, reason)

    private fun intToBytes(value: Int) = byteArrayOf((value ushr 24).toByte(), (value ushr 16).toByte(), (value ushr 8).toByte(), value.toByte())

    private fun bytesToInt(bytes: ByteArray) =
        (bytes[0].toInt() and 0xff shl 24) or (bytes[1].toInt() and 0xff shl 16) or (bytes[2].toInt() and 0xff shl 8) or (bytes[3].toInt() and 0xff)

    companion object {
        const val AUTH_SUFFIX = ".auth"
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val IV_BYTES = 12
        private const val TAG_BITS = 128
    }
}
