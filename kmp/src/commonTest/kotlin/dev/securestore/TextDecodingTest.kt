package dev.securestore

import kotlin.random.Random
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith

/**
 * [decodeText] decodes leniently first and strictly only when the result contains U+FFFD.
 * It must accept and reject exactly what the strict decoder does.
 */
class TextDecodingTest {
    @Test
    fun decodeTextMatchesStrictDecoder() {
        val random = Random(20261205)
        // Half of the bytes are edges of the ASCII, continuation and lead byte ranges, so many
        // inputs are malformed: overlong, truncated, encoded surrogates, above U+10FFFF.
        val edgeBytes = intArrayOf(0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF)
        val replacement = "\uFFFD".encodeToByteArray()
        repeat(50_000) { round ->
            val length = random.nextInt(0, 12)
            val bytes = ByteArray(length) {
                if (random.nextBoolean()) edgeBytes[random.nextInt(edgeBytes.size)].toByte() else random.nextInt(256).toByte()
            }
            val input = if (round % 5 == 0) replacement + bytes else bytes
            val strict = runCatching { input.decodeToString(throwOnInvalidSequence = true) }
            val strictText = strict.getOrNull()
            if (strictText != null) {
                assertEquals(strictText, decodeText("k", input), "input ${input.toHex()}")
            } else {
                assertFailsWith<SecureStoreException.InvalidValue>("input ${input.toHex()}") { decodeText("k", input) }
            }
        }
    }

    private fun ByteArray.toHex(): String = joinToString(" ") { (it.toInt() and 0xFF).toString(16).padStart(2, '0') }
}
