package dev.securestore

import dev.securestore.internal.CoreSecureStore
import dev.securestore.internal.NativeLibrary
import dev.securestore.internal.translate
import uniffi.securestore.SecureStoreCore

/**
 * The contract suite through the same Kotlin code that iOS and tvOS use, against the core's
 * Keychain backend over its in-memory Keychain, since this machine has no Keychain.
 */
class InMemoryKeychainContractTest : SecureStoreContract() {
    override fun createStore(config: SecureStoreConfig): SecureStore {
        NativeLibrary.ensureLoaded()
        val core = translate { SecureStoreCore.openInMemoryKeychain(config.maxValueBytes.toULong()) }
        return CoreSecureStore(core, { false })
    }
}
