package dev.securestore

/**
 * The contract suite against the system Keychain, on the iOS and tvOS simulators.
 *
 * NOTE: this runs only on macOS CI (`./gradlew :kmp:iosSimulatorArm64Test`); the Linux build
 * machine runs the same suite against the in-memory Keychain instead.
 */
class KeychainSecureStoreTest : SecureStoreContract() {
    override fun createStore(config: SecureStoreConfig): SecureStore = SecureStore(config)
}
