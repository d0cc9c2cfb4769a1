package dev.securestore.sample

import dev.securestore.JvmSecureStore
import dev.securestore.SecureStoreException
import dev.securestore.SecureStoreOptions
import java.nio.file.Path
import java.nio.file.Paths
import kotlin.system.exitProcess

private const val USAGE = """usage: sample/run [--dir DIRECTORY] [--service SERVICE] COMMAND
commands:
  set KEY VALUE   store VALUE under KEY
  set KEY -       store the text read from standard input under KEY (one trailing
                  newline is removed), so the secret stays out of the process list
  get KEY         print the value stored under KEY
  delete KEY      delete the entry under KEY, if there is one
  list            print the keys of the service, one per line
options (before or after the command; "--" ends the options):
  --dir DIRECTORY    the store directory (default: the per-user SecureStore directory)
  --service SERVICE  the keychainService of the entries (default: dev.securestore.default)
exit codes: 0 success, 1 no entry under KEY, 2 usage error, 3 invalid key or service,
  4 value too large, 5 any other error"""

/** Exit codes of the sample, documented in [USAGE]. */
private object Exit {
    const val NOT_FOUND = 1
    const val USAGE = 2
    const val INVALID_INPUT = 3
    const val TOO_LARGE = 4
    const val OTHER_ERROR = 5
}

/** A parsed command line. */
private class Invocation(val directory: Path, val options: SecureStoreOptions, val command: String, val arguments: List<String>)

fun main(args: Array<String>) {
    val invocation = parse(args)
    try {
        run(invocation)
    } catch (e: SecureStoreException) {
        System.err.println("error: ${e.message}")
        exitProcess(
            when (e) {
                is SecureStoreException.InvalidKey, is SecureStoreException.InvalidService -> Exit.INVALID_INPUT
                is SecureStoreException.ValueTooLarge -> Exit.TOO_LARGE
                else -> Exit.OTHER_ERROR
            },
        )
    } catch (e: Exception) {
        System.err.println("error: unexpected failure: $e")
        exitProcess(Exit.OTHER_ERROR)
    } catch (e: Error) {
        System.err.println("error: unexpected failure: $e")
        exitProcess(Exit.OTHER_ERROR)
    }
}

private fun parse(args: Array<String>): Invocation {
    var directory: Path? = null
    var service: String? = null
    val positional = mutableListOf<String>()
    var index = 0
    var optionsEnded = false
    while (index < args.size) {
        val arg = args[index++]
        if (optionsEnded || !arg.startsWith("--")) {
            positional += arg
            continue
        }
        when (arg) {
            "--" -> optionsEnded = true
            "--dir" -> {
                val value = args.getOrNull(index++) ?: fail("--dir needs a directory")
                if (value.isBlank()) fail("--dir needs a non-empty directory")
                directory = Paths.get(value)
            }
            "--service" -> service = args.getOrNull(index++) ?: fail("--service needs a name")
            "--help" -> {
                println(USAGE)
                exitProcess(0)
            }
            else -> fail("unknown option $arg")
        }
    }
    val command = positional.firstOrNull() ?: fail("missing command")
    val arguments = positional.drop(1)
    val expected = when (command) {
        "set" -> 2
        "get", "delete" -> 1
        "list" -> 0
        else -> fail("unknown command $command")
    }
    if (arguments.size != expected) fail("$command expects $expected argument${if (expected == 1) "" else "s"}, got ${arguments.size}")
    return Invocation(directory ?: JvmSecureStore.defaultDirectory(), SecureStoreOptions(keychainService = service), command, arguments)
}

private fun run(invocation: Invocation) {
    val store = JvmSecureStore.open(invocation.directory)
    val options = invocation.options
    val service = options.service
    when (invocation.command) {
        "set" -> {
            val (key, given) = invocation.arguments
            val value = if (given == "-") readStandardInput() else given
            store.setItemBlocking(key, value, options)
            println("stored $key in service $service")
        }
        "get" -> {
            val key = invocation.arguments.single()
            val value = store.getItemBlocking(key, options)
            if (value == null) {
                System.err.println("no entry for key $key in service $service")
                exitProcess(Exit.NOT_FOUND)
            }
            println(value)
        }
        "delete" -> {
            val key = invocation.arguments.single()
            store.deleteItemBlocking(key, options)
            println("$key is not stored in service $service any more")
        }
        "list" -> {
            val listing = store.listKeysBlocking(options)
            listing.keys.forEach(::println)
            if (listing.rootKeyLost) {
                System.err.println("the key of service $service was lost; its old entries cannot be read, and the next write starts over")
            }
            if (listing.unreadableEntries > 0) {
                val entries = if (listing.unreadableEntries == 1) "1 entry" else "${listing.unreadableEntries} entries"
                System.err.println("$entries could not be read; delete their keys, or the service, to remove them")
            }
        }
    }
}

private fun readStandardInput(): String {
    val text = System.`in`.readBytes().toString(Charsets.UTF_8)
    return text.removeSuffix("\n")
}

private fun fail(message: String): Nothing {
    System.err.println("error: $message")
    System.err.println(USAGE)
    exitProcess(Exit.USAGE)
}
