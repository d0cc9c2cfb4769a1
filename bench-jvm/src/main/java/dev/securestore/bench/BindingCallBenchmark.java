package dev.securestore.bench;

import dev.securestore.JvmKeyProtection;
import dev.securestore.JvmSecureStore;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cheapest call into the core that returns a value: the default service name, with no
 * I/O and no arguments. Its time is the fixed cost of one call through the generated
 * binding and JNA, which every store operation pays at least once.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BindingCallBenchmark {
    private Path directory;

    @Setup(Level.Trial)
    public void loadLibrary() {
        // Opening a store loads the native library and writes nothing to the directory.
        directory = BenchFiles.createTempDirectory("binding-");
        JvmSecureStore.INSTANCE.open(
                directory, new JvmKeyProtection.AppSuppliedKey(new byte[32]), new dev.securestore.SecureStoreConfig(2048));
    }

    @TearDown(Level.Trial)
    public void close() {
        BenchFiles.deleteRecursively(directory);
    }

    @Benchmark
    public String defaultService() {
        return uniffi.securestore.Securestore_jvmKt.defaultService();
    }
}
