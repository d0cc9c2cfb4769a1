package dev.securestore

class InMemorySecureStoreTest : SecureStoreContract() {
    override fun createStore(config: SecureStoreConfig): SecureStore = InMemorySecureStore(config)
}
