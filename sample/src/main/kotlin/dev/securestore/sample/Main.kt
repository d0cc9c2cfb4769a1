package dev.securestore.sample

import dev.securestore.JvmSecureStore
import dev.securestore.SecureStoreException
import dev.securestore.SecureStoreOptions
import java.nio.file.Paths
import kotlin.system.exitProcess

private const val USAGE = """usage: sample/run [--dir DIRECTORY] [--service SERVICE] COMMAND
commands:
  set KEY VALUE   store VALUE under KEY
  get KEY         print the value stored under KEY
  delete KEY      delete the entry under KEY
  list            print the keys of the service, one per line
options:
  --dir DIRECTORY    the store directory (default: the per-user SecureStore directory)
  --service SERVICE  the keychainService of the entries (default: dev.securestore.default)
exit codes: 0 success, 1 no entry under KEY, 2 usage error, 3 invalid key or service,
  4 value too large, 5 any other store error"""

/** Exit codes of the sample, documented in [USAGE]. */
private object Exit {
    const val NOT_FOUND = 1
    const val USAGE = 2
    const val INVALID_INPUT = 3
    const val TOO_LARGE = 4
    const val STORE_ERROR = 5
}

fun main(args: Array<String>) {
    var directory = JvmSecureStore.defaultDirectory()
    var service: String? = null
    val rest = ArrayDeque(args.toList())
    while (rest.firstOrNull()?.startsWith("--") == true) {
        when (val option = rest.removeFirst()) {
            "--dir" -> directory = Paths.get(rest.removeFirstOrNull() ?: fail("--dir needs a directory"))
            "--service" -> service = rest.removeFirstOrNull() ?: fail("--service needs a name")
            "--help" -> {
                println(USAGE)
                return
            }
            else -> fail("unknown option $option")
        }
    }
    val command = rest.removeFirstOrNull() ?: fail("missing command")
    val options = SecureStoreOptions(keychainService = service)

    try {
        val store = JvmSecureStore.open(directory)
        when (command) {
            "set" -> {
                val (key, value) = arguments(rest, 2, "set KEY VALUE")
                store.setItemBlocking(key, value, options)
                println("stored $key in service ${options.service}")
            }
            "get" -> {
                val (key) = arguments(rest, 1, "get KEY")
                val value = store.getItemBlocking(key, options)
                if (value == null) {
                    System.err.println("no entry for key $key in service ${options.service}")
                    exitProcess(Exit.NOT_FOUND)
                }
                println(value)
            }
            "delete" -> {
                val (key) = arguments(rest, 1, "delete KEY")
                store.deleteItemBlocking(key, options)
                println("deleted $key from service ${options.service}")
            }
            "list" -> {
                arguments(rest, 0, "list")
                val listing = store.listKeysBlocking(options)
                listing.keys.forEach(::println)
                if (listing.unreadableEntries > 0) {
                    System.err.println("${listing.unreadableEntries} entries could not be read")
                }
            }
            else -> fail("unknown command $command")
        }
    } catch (e: SecureStoreException) {
        System.err.println("error: ${e.message}")
        exitProcess(
            when (e) {
                is SecureStoreException.InvalidKey, is SecureStoreException.InvalidService -> Exit.INVALID_INPUT
                is SecureStoreException.ValueTooLarge -> Exit.TOO_LARGE
                else -> Exit.STORE_ERROR
            },
        )
    }
}

private fun arguments(rest: ArrayDeque<String>, count: Int, form: String): List<String> {
    if (rest.size != count) fail("expected: $form")
    return rest.toList()
}

private fun fail(message: String): Nothing {
    System.err.println("error: $message")
    System.err.println(USAGE)
    exitProcess(Exit.USAGE)
}
