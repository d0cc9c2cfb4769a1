package dev.securestore

import androidx.test.platform.app.InstrumentationRegistry

// NOTE: instrumented tests run only on an Android device or emulator
// (./gradlew :kmp:connectedAndroidTest). The build machine of this repository has neither,
// so its Maven build only compiles them.

/** The shared contract suite against the real Android store: Keystore keys and files in noBackupFilesDir. */
class AndroidSecureStoreContractTest : SecureStoreContract() {
    override fun createStore(config: SecureStoreConfig): SecureStore =
        AndroidSecureStore.open(InstrumentationRegistry.getInstrumentation().targetContext, config)
}
