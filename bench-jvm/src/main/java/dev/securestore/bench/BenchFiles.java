package dev.securestore.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.stream.Stream;

/** Temporary directories for the benchmarks, and the values they store. */
final class BenchFiles {
    /** The service every benchmark writes to. */
    static final String SERVICE = "bench.service";
    /** The key whose value the benchmarks read and overwrite. */
    static final String MEASURED_KEY = "measured";
    /** The size of the other entries' values, in bytes. */
    static final int BACKGROUND_VALUE_BYTES = 32;

    private BenchFiles() {}

    /**
     * Creates a fresh directory under {@code SECURESTORE_BENCH_DIR}, or under
     * {@code target/bench-tmp} of the working directory if that is unset. fsync costs depend
     * on the filesystem, so the directory must be on the disk being measured, not a tmpfs.
     */
    static Path createTempDirectory(String prefix) {
        String configured = System.getenv("SECURESTORE_BENCH_DIR");
        Path root = configured != null && !configured.isEmpty() ? Paths.get(configured) : Paths.get("target", "bench-tmp");
        try {
            Files.createDirectories(root);
            return Files.createTempDirectory(root.toAbsolutePath(), prefix);
        } catch (IOException e) {
            throw new UncheckedIOException("could not create a benchmark directory under " + root, e);
        }
    }

    /** Deletes {@code directory} and everything under it. */
    static void deleteRecursively(Path directory) {
        if (directory == null || !Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + directory, e);
        }
    }

    /** Returns an ASCII text of {@code length} bytes, so its UTF-8 size is its length. */
    static String value(int length) {
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append((char) ('a' + i % 26));
        }
        return text.toString();
    }

    /** Returns the key of the {@code n}th background entry. */
    static String backgroundKey(int n) {
        return "entry-" + n;
    }
}
