package dev.securestore.bench;

import dev.securestore.JvmKeyProtection;
import dev.securestore.JvmSecureStore;
import dev.securestore.SecureStore;
import dev.securestore.SecureStoreConfig;
import dev.securestore.SecureStoreOptions;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import dev.securestore.internal.NativeStoreCalls;
import uniffi.securestore.Accessibility;
import uniffi.securestore.EntryOptions;
import uniffi.securestore.SecureStoreCore;

/**
 * The Kotlin API ({@code getItemBlocking}, {@code setItemBlocking}) next to the same calls
 * made directly, on one store in a real directory with an app-supplied key: the core's JNI
 * entry points that the Kotlin API uses ({@code NativeStoreCalls}), and the generated UniFFI
 * binding {@code SecureStoreCore}, which goes through JNA. The difference between the first
 * two is the cost of the Kotlin layer (option checks, UTF-8 text, error translation).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SecureStoreBenchmark {
    /** Writers that fill the store at once, because durable writes mostly wait for the disk. */
    private static final int FILL_THREADS = 16;

    @Param({"10", "1000"})
    public int entries;

    @Param({"32", "2048"})
    public int valueBytes;

    private Path directory;
    private SecureStore store;
    private SecureStoreCore core;
    private long handle;
    private SecureStoreOptions options;
    private EntryOptions coreOptions;
    private String value;
    private byte[] valueUtf8;

    @Setup(Level.Trial)
    public void open() throws Exception {
        directory = BenchFiles.createTempDirectory("securestore-");
        byte[] appKey = new byte[32];
        new java.security.SecureRandom().nextBytes(appKey);
        store = JvmSecureStore.INSTANCE.open(
                directory, new JvmKeyProtection.AppSuppliedKey(appKey), new SecureStoreConfig(64 * 1024));
        core = coreOf(store);
        handle = handleOf(store);
        options = new SecureStoreOptions(BenchFiles.SERVICE, dev.securestore.KeychainAccessibility.AFTER_FIRST_UNLOCK, false, null, null);
        coreOptions = new EntryOptions(BenchFiles.SERVICE, Accessibility.AFTER_FIRST_UNLOCK, false, null, null);
        value = BenchFiles.value(valueBytes);
        valueUtf8 = value.getBytes(StandardCharsets.UTF_8);

        store.setItemBlocking(BenchFiles.MEASURED_KEY, value, options);
        fill(entries - 1);
    }

    /** Returns the binding object under a store that {@link JvmSecureStore#open} returned. */
    private static SecureStoreCore coreOf(SecureStore store) throws ReflectiveOperationException {
        Field field = store.getClass().getDeclaredField("core");
        field.setAccessible(true);
        return (SecureStoreCore) field.get(store);
    }

    /** Returns the handle of the core's JNI entry points that the store's calls use. */
    private static long handleOf(SecureStore store) throws ReflectiveOperationException {
        Field entries = store.getClass().getDeclaredField("entries");
        entries.setAccessible(true);
        Object calls = entries.get(store);
        Field handle = calls.getClass().getDeclaredField("handle");
        handle.setAccessible(true);
        return handle.getLong(calls);
    }

    private void fill(int count) throws Exception {
        byte[] background = BenchFiles.value(BenchFiles.BACKGROUND_VALUE_BYTES).getBytes(StandardCharsets.UTF_8);
        ExecutorService pool = Executors.newFixedThreadPool(FILL_THREADS);
        try {
            List<Future<?>> writes = new ArrayList<>();
            for (int n = 0; n < count; n++) {
                String key = BenchFiles.backgroundKey(n);
                writes.add(pool.submit(() -> {
                    core.set(key, background, coreOptions);
                    return null;
                }));
            }
            for (Future<?> write : writes) {
                write.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        BenchFiles.deleteRecursively(directory);
    }

    @Benchmark
    public String kotlinGet() {
        return store.getItemBlocking(BenchFiles.MEASURED_KEY, options);
    }

    @Benchmark
    public void kotlinSet() {
        store.setItemBlocking(BenchFiles.MEASURED_KEY, value, options);
    }

    @Benchmark
    public byte[] directGet() {
        return NativeStoreCalls.nativeGet(
                handle, core, BenchFiles.MEASURED_KEY, BenchFiles.SERVICE, 0, false, null, null);
    }

    @Benchmark
    public void directSet() {
        NativeStoreCalls.nativeSet(
                handle, core, BenchFiles.MEASURED_KEY, valueUtf8, BenchFiles.SERVICE, 0, false, null, null);
    }

    @Benchmark
    public byte[] coreGet() throws Exception {
        return core.get(BenchFiles.MEASURED_KEY, coreOptions);
    }

    @Benchmark
    public void coreSet() throws Exception {
        core.set(BenchFiles.MEASURED_KEY, valueUtf8, coreOptions);
    }
}
