package dev.securestore.internal

import android.annotation.TargetApi
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import java.security.KeyFactory
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.ProviderException
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.SecretKeyFactory

internal const val ANDROID_KEYSTORE = "AndroidKeyStore"

/**
 * Generates the Keystore keys of [AndroidKeystoreKeyProvider] and reports where they live.
 * Keys go into StrongBox when the device has it, and into the TEE when StrongBox refuses.
 */
internal class KeystoreKeys(private val context: Context) {
    private val hasStrongBox: Boolean by lazy {
        Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
    }

    /** Generates the AES-256-GCM key of plain entries. Keystore chooses every IV, so none is ever reused by mistake. */
    fun generateAesKey(alias: String): SecretKey =
        withStrongBoxFallback { strongBox ->
            val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setKeySize(AES_KEY_BITS)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            if (strongBox) spec.setIsStrongBoxBacked(true)
            val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
            generator.init(spec.build())
            generator.generateKey()
        }

    /**
     * Generates the RSA key pair of authenticated entries. Only the private key is restricted:
     * it decrypts with OAEP after a strong biometric authentication for every use, and a new
     * biometric enrolment invalidates it. Encryption uses the public key outside Keystore.
     */
    @TargetApi(Build.VERSION_CODES.P)
    fun generateAuthenticatedKeyPair(alias: String): KeyPair =
        withStrongBoxFallback { strongBox ->
            val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_DECRYPT)
                .setKeySize(RSA_KEY_BITS)
                .setDigests(KeyProperties.DIGEST_SHA256)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_RSA_OAEP)
                .setUserAuthenticationRequired(true)
                .setInvalidatedByBiometricEnrollment(true)
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                // Zero seconds: every decryption needs its own authentication, by a strong biometric only.
                spec.setUserAuthenticationParameters(0, KeyProperties.AUTH_BIOMETRIC_STRONG)
            }
            if (strongBox) spec.setIsStrongBoxBacked(true)
            val generator = KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_RSA, ANDROID_KEYSTORE)
            generator.initialize(spec.build())
            generator.generateKeyPair()
        }

    /**
     * Returns the weakest [ProtectionCode] among the keys in [aliases], or, when there are none
     * yet, the level a new key would be requested at.
     */
    fun weakestProtection(store: KeyStore, aliases: List<String>): Int {
        // A key whose KeyInfo cannot be read (for example one invalidated by a new enrolment)
        // protects nothing any more, so it does not count.
        val levels = aliases.mapNotNull { alias ->
            val info = try {
                keyInfo(store, alias)
            } catch (e: Exception) {
                null
            }
            info?.let(::protectionOf)
        }
        return levels.minOrNull() ?: advertisedProtection()
    }

    private fun keyInfo(store: KeyStore, alias: String): KeyInfo? =
        when (val key = store.getKey(alias, null)) {
            is SecretKey -> SecretKeyFactory.getInstance(key.algorithm, ANDROID_KEYSTORE).getKeySpec(key, KeyInfo::class.java) as KeyInfo
            is PrivateKey -> KeyFactory.getInstance(key.algorithm, ANDROID_KEYSTORE).getKeySpec(key, KeyInfo::class.java)
            else -> null
        }

    private fun protectionOf(info: KeyInfo): Int =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            when (info.securityLevel) {
                KeyProperties.SECURITY_LEVEL_STRONGBOX -> ProtectionCode.STRONG_BOX
                KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT, KeyProperties.SECURITY_LEVEL_UNKNOWN_SECURE ->
                    ProtectionCode.TRUSTED_ENVIRONMENT
                else -> ProtectionCode.SOFTWARE
            }
        } else {
            // NOTE: before API 31 KeyInfo cannot tell StrongBox from the TEE, so a StrongBox key
            // on API 28 to 30 is reported as TRUSTED_ENVIRONMENT, never stronger than it is.
            @Suppress("DEPRECATION")
            if (info.isInsideSecureHardware) ProtectionCode.TRUSTED_ENVIRONMENT else ProtectionCode.SOFTWARE
        }

    /**
     * Returns the level that the device advertises for new keys, for stores that have no key yet.
     * NOTE: below API 31 no feature flag shows whether Keystore is hardware-backed, so the TEE is
     * assumed there. Once a key exists, its KeyInfo is reported instead.
     */
    private fun advertisedProtection(): Int =
        when {
            hasStrongBox -> ProtectionCode.STRONG_BOX
            Build.VERSION.SDK_INT >= Build.VERSION_CODES.S &&
                !context.packageManager.hasSystemFeature(PackageManager.FEATURE_HARDWARE_KEYSTORE) -> ProtectionCode.SOFTWARE
            else -> ProtectionCode.TRUSTED_ENVIRONMENT
        }

    /** Runs [generate] in StrongBox when the device has it, and again outside it when StrongBox refuses. */
    private inline fun <T> withStrongBoxFallback(generate: (strongBox: Boolean) -> T): T {
        if (hasStrongBox) {
            try {
                return generate(true)
            } catch (e: ProviderException) {
                // StrongBoxUnavailableException is a ProviderException; rethrow any other.
                if (generateSequence(e as Throwable) { it.cause }.none { it is StrongBoxUnavailableException }) throw e
            }
        }
        return generate(false)
    }

    private companion object {
        const val AES_KEY_BITS = 256
        const val RSA_KEY_BITS = 2048
    }
}
