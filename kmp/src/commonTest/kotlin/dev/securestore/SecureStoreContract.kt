package dev.securestore

import kotlinx.coroutines.test.runTest
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * The behaviour every [SecureStore] keeps, on every platform. Each platform's test source
 * set subclasses this with a factory for its real store; the in-memory fake runs it too.
 */
abstract class SecureStoreContract {
    /** Returns a new, empty store. */
    protected abstract fun createStore(config: SecureStoreConfig = SecureStoreConfig()): SecureStore

    private val opened = mutableListOf<SecureStore>()

    protected val store: SecureStore by lazy { createStore().also { opened += it } }

    private val svcA = SecureStoreOptions(keychainService = "svcA")
    private val svcB = SecureStoreOptions(keychainService = "svcB")

    @AfterTest
    fun deleteServices() {
        for (service in listOf(null, "svcA", "svcB")) {
            opened.forEach { it.deleteServiceBlocking(SecureStoreOptions(keychainService = service)) }
        }
    }

    @Test
    fun absentKeyReadsNull() {
        assertNull(store.getItemBlocking("never-written"))
        assertNull(store.getBytesBlocking("never-written", svcA))
    }

    @Test
    fun servicesAreSeparate() {
        store.setItemBlocking("k", "v1", svcA)
        store.setItemBlocking("k", "v2", svcB)

        assertEquals("v1", store.getItemBlocking("k", svcA))
        store.deleteItemBlocking("k", svcA)

        assertNull(store.getItemBlocking("k", svcA))
        assertEquals("v2", store.getItemBlocking("k", svcB))
        assertNull(store.getItemBlocking("k"), "the default service is separate too")
    }

    @Test
    fun textValuesRoundTripExactly() {
        val values = listOf(
            "TEST VALUE", "", " ", "\n", "line1\nline2", "ünïcødé", "😀", "a\u0000b", "\u0000",
            "{\"token\":\"abc\",\"exp\":1700000000,\"nested\":{\"list\":[1,2,3]}}",
        )
        values.forEachIndexed { index, value ->
            store.setItemBlocking("value$index", value)
            assertEquals(value, store.getItemBlocking("value$index"), "value $index")
        }
    }

    @Test
    fun byteValuesRoundTripWithoutPadding() {
        for (size in listOf(0, 1, 15, 16, 17, 255, 256, 257, 2048)) {
            val value = ByteArray(size) { (it * 31 + size).toByte() }
            store.setBytesBlocking("bytes$size", value)
            val read = store.getBytesBlocking("bytes$size")
            assertEquals(size, read?.size, "size $size")
            assertContentEquals(value, read, "size $size")
        }
    }

    @Test
    fun limitIsMeasuredInUtf8Bytes() {
        val limit = SecureStore.DEFAULT_MAX_VALUE_BYTES
        // Characters of 1, 2, 3 and 4 UTF-8 bytes.
        for (unit in listOf("a", "é", "€", "😀")) {
            val unitBytes = unit.encodeToByteArray().size
            for (target in listOf(limit - 1, limit, limit + 1)) {
                val value = unit.repeat(target / unitBytes) + "a".repeat(target % unitBytes)
                assertEquals(target, value.encodeToByteArray().size)
                store.setItemBlocking("limit", "previous")
                if (target <= limit) {
                    store.setItemBlocking("limit", value)
                    assertEquals(value, store.getItemBlocking("limit"), "$target bytes of '$unit'")
                } else {
                    val error = assertFailsWith<SecureStoreException.ValueTooLarge> {
                        store.setItemBlocking("limit", value)
                    }
                    assertEquals(target.toLong(), error.sizeBytes)
                    assertEquals(limit.toLong(), error.limitBytes)
                    assertTrue("$target" in error.message!!, error.message)
                    assertTrue("$limit" in error.message!!, error.message)
                    assertEquals("previous", store.getItemBlocking("limit"), "the old value stays")
                }
            }
        }
    }

    @Test
    fun configuredLimitApplies() {
        val small = createStore(SecureStoreConfig(maxValueBytes = 16)).also { opened += it }
        assertEquals(16, small.maxValueBytes)
        small.setItemBlocking("k", "x".repeat(16))
        val error = assertFailsWith<SecureStoreException.ValueTooLarge> { small.setItemBlocking("k", "x".repeat(17)) }
        assertEquals(16, error.limitBytes)
        assertEquals("x".repeat(16), small.getItemBlocking("k"))
    }

    @Test
    fun invalidLimitIsRejected() {
        assertFailsWith<SecureStoreException.Configuration> { createStore(SecureStoreConfig(maxValueBytes = 0)) }
    }

    @Test
    fun invalidKeysAreRejectedByName() {
        store.setItemBlocking("kept", "value")
        for (key in listOf("", "a/b", "../x", "a b", "tök", "key:1", "😀", "a\u0000b", "k".repeat(256))) {
            val error = assertFailsWith<SecureStoreException.InvalidKey>("key '$key'") { store.setItemBlocking(key, "v") }
            assertEquals(key, error.key)
            assertTrue("key" in error.message!!, error.message)
            assertFailsWith<SecureStoreException.InvalidKey> { store.getItemBlocking(key) }
            assertFailsWith<SecureStoreException.InvalidKey> { store.deleteItemBlocking(key) }
        }
        assertEquals("value", store.getItemBlocking("kept"))
    }

    @Test
    fun errorsNeverContainValues() {
        val secret = "s3cret-" + "x".repeat(3000)
        val error = assertFailsWith<SecureStoreException.ValueTooLarge> { store.setItemBlocking("token", secret) }
        assertTrue("s3cret" !in error.toString())
    }

    @Test
    fun unpairedSurrogateIsInvalidValue() {
        val error = assertFailsWith<SecureStoreException.InvalidValue> { store.setItemBlocking("k", "a\uD800b") }
        assertTrue("value" in error.message!!)
        assertNull(store.getItemBlocking("k"))
    }

    @Test
    fun keysAreCaseSensitive() {
        store.setItemBlocking("Token", "upper")
        store.setItemBlocking("token", "lower")
        assertEquals("upper", store.getItemBlocking("Token"))
        assertEquals("lower", store.getItemBlocking("token"))
        assertNull(store.getItemBlocking("TOKEN"))
    }

    @Test
    fun overwriteReplacesValue() {
        store.setItemBlocking("k", "first")
        store.setItemBlocking("k", "second")
        assertEquals("second", store.getItemBlocking("k"))
    }

    @Test
    fun deletingMissingKeySucceeds() {
        store.deleteItemBlocking("never-written")
        store.deleteItemBlocking("never-written", svcA)
        assertNull(store.getItemBlocking("never-written"))
    }

    @Test
    fun listKeysAndDeleteService() {
        assertEquals(KeyListing(emptyList()), store.listKeysBlocking(svcA))
        store.setItemBlocking("b", "1", svcA)
        store.setItemBlocking("a", "2", svcA)
        store.setItemBlocking("c", "3", svcB)

        assertEquals(KeyListing(listOf("a", "b")), store.listKeysBlocking(svcA))
        store.deleteServiceBlocking(svcA)

        assertEquals(KeyListing(emptyList()), store.listKeysBlocking(svcA))
        assertNull(store.getItemBlocking("a", svcA))
        assertEquals("3", store.getItemBlocking("c", svcB))
        store.setItemBlocking("a", "again", svcA)
        assertEquals("again", store.getItemBlocking("a", svcA))
    }

    @Test
    fun invalidServiceIsRejected() {
        val error = assertFailsWith<SecureStoreException.InvalidService> {
            store.setItemBlocking("k", "v", SecureStoreOptions(keychainService = ""))
        }
        assertEquals("", error.service)
        assertFailsWith<SecureStoreException.InvalidService> {
            store.getItemBlocking("k", SecureStoreOptions(keychainService = "a\uD800b"))
        }
    }

    @Test
    fun unpairedSurrogateKeyIsInvalidKey() {
        assertFailsWith<SecureStoreException.InvalidKey> { store.setItemBlocking("a\uD800", "v") }
        assertFailsWith<SecureStoreException.InvalidKey> { store.getItemBlocking("\uDC00") }
    }

    @Test
    fun longRejectedKeyIsCutInMessage() {
        val misplacedSecret = "secret-token-" + "x".repeat(5000)
        val error = assertFailsWith<SecureStoreException.InvalidKey> { store.setItemBlocking(misplacedSecret, "v") }
        assertTrue(error.message!!.length < 400, "message of ${error.message!!.length} characters")
    }

    @Test
    fun binaryValueReadAsTextFails() {
        store.setBytesBlocking("bin", byteArrayOf(0xff.toByte(), 0xfe.toByte()))
        assertFailsWith<SecureStoreException.InvalidValue> { store.getItemBlocking("bin") }
    }

    @Test
    fun replacementCharacterRoundTrips() {
        store.setItemBlocking("k", "a\uFFFDb")
        assertEquals("a\uFFFDb", store.getItemBlocking("k"))
    }

    @Test
    fun malformedUtf8ReadAsTextFails() {
        val cases = mapOf(
            "overlong NUL" to byteArrayOf(0xC0.toByte(), 0x80.toByte()),
            "encoded surrogate" to byteArrayOf(0xED.toByte(), 0xA0.toByte(), 0x80.toByte()),
            "truncated sequence" to byteArrayOf(0x61, 0xE2.toByte(), 0x82.toByte()),
            "U+FFFD beside a bad byte" to "\uFFFD".encodeToByteArray() + byteArrayOf(0xFF.toByte()),
        )
        for ((case, bytes) in cases) {
            store.setBytesBlocking("bad", bytes)
            assertFailsWith<SecureStoreException.InvalidValue>(case) { store.getItemBlocking("bad") }
        }
    }

    @Test
    fun suspendVariantsWork() = runTest {
        assertTrue(store.isAvailable())
        store.setItem("async", "value", svcA)
        assertEquals("value", store.getItem("async", svcA))
        store.setBytes("asyncBytes", byteArrayOf(1, 2, 3), svcA)
        assertContentEquals(byteArrayOf(1, 2, 3), store.getBytes("asyncBytes", svcA))
        assertEquals(listOf("async", "asyncBytes"), store.listKeys(svcA).keys)
        store.deleteItem("async", svcA)
        assertNull(store.getItem("async", svcA))
        store.deleteService(svcA)
        assertEquals(emptyList(), store.listKeys(svcA).keys)
    }

    @Test
    fun suspendErrorsAreTyped() = runTest {
        assertFailsWith<SecureStoreException.InvalidKey> { store.getItem("bad key") }
    }

    @Test
    fun accessibilityCodesMatchExpo() {
        val expected = listOf(
            KeychainAccessibility.AFTER_FIRST_UNLOCK,
            KeychainAccessibility.AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY,
            KeychainAccessibility.ALWAYS,
            KeychainAccessibility.WHEN_PASSCODE_SET_THIS_DEVICE_ONLY,
            KeychainAccessibility.ALWAYS_THIS_DEVICE_ONLY,
            KeychainAccessibility.WHEN_UNLOCKED,
            KeychainAccessibility.WHEN_UNLOCKED_THIS_DEVICE_ONLY,
        )
        expected.forEachIndexed { code, value ->
            assertEquals(code, value.code)
            assertEquals(value, KeychainAccessibility.fromCode(code))
            store.setItemBlocking("acc$code", "v$code", SecureStoreOptions(keychainAccessible = value))
            assertEquals("v$code", store.getItemBlocking("acc$code", SecureStoreOptions(keychainAccessible = value)))
        }
        assertFailsWith<IllegalArgumentException> { KeychainAccessibility.fromCode(7) }
    }
}
