package dev.securestore.internal

/**
 * A platform key that wraps the store's root keys, called by the Rust core through JNI.
 *
 * Contract: [wrap] creates the platform key for [alias] if it is absent. [unwrap] never
 * creates key material and throws [KeyProviderException] with [KeyProviderException.KEY_LOST]
 * when the key is missing, permanently invalidated, or did not wrap these bytes. Failures
 * that may pass throw [KeyProviderException.UNAVAILABLE], so the store deletes nothing.
 *
 * The method names and signatures are called from native code: keep them unchanged.
 */
public interface PlatformKeyProvider {
    /** Encrypts [key] under the platform key [alias], binding [aad]. */
    public fun wrap(alias: String, aad: ByteArray, authenticated: Boolean, prompt: String?, key: ByteArray): ByteArray

    /** Decrypts bytes produced by [wrap] with the same [alias] and [aad]. */
    public fun unwrap(alias: String, aad: ByteArray, authenticated: Boolean, prompt: String?, wrapped: ByteArray): ByteArray

    /** Deletes the platform key [alias]; deleting a missing key succeeds. */
    public fun deleteKey(alias: String)

    /** Returns the protection of the keys for authenticated or plain entries, as a [ProtectionCode]. */
    public fun protection(authenticated: Boolean): Int
}

/** Numeric protection levels exchanged with native code. */
public object ProtectionCode {
    public const val SOFTWARE: Int = 0
    public const val OS_CREDENTIAL_STORE: Int = 1
    public const val TRUSTED_ENVIRONMENT: Int = 2
    public const val STRONG_BOX: Int = 3
    public const val SECURE_ENCLAVE: Int = 4
}

/** A typed failure of a [PlatformKeyProvider], read by native code through [getCode]. */
public class KeyProviderException(private val code: Int, message: String, cause: Throwable? = null) :
    Exception(message, cause) {
    /** Returns one of the codes below; native code calls this method by name. */
    public fun getCode(): Int = code

    public companion object {
        /** The key is missing, permanently invalidated, or did not wrap these bytes. */
        public const val KEY_LOST: Int = 1

        /** The user dismissed the authentication prompt. */
        public const val USER_CANCELLED: Int = 2

        /** Authentication failed or is locked out. */
        public const val AUTHENTICATION_FAILED: Int = 3

        /** The device is locked. */
        public const val DEVICE_LOCKED: Int = 4

        /** The provider cannot honour an option. The message names the option and the reason. */
        public const val UNSUPPORTED: Int = 5

        /** The key store failed in a way that may pass. */
        public const val UNAVAILABLE: Int = 6

        /** The provider is misconfigured. The message explains the fix, and the store keeps its entries. */
        public const val CONFIGURATION: Int = 7
    }
}

/** Registration of key providers with the native library. */
public object NativeKeyProviders {
    /** Registers [provider] and returns the handle that opens stores with it. */
    @JvmStatic
    public external fun nativeRegister(provider: PlatformKeyProvider): Long

    /** Forgets the provider registered under [handle]; stores already open keep it. */
    @JvmStatic
    public external fun nativeUnregister(handle: Long)
}
