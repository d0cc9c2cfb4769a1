package dev.securestore.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
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

/**
 * The two peer designs, with the same entry counts and value sizes as
 * {@link SecureStoreBenchmark}: {@link ExpoStyleStore} (one preferences file, JCA AES-GCM
 * per value) and {@link EncryptedPrefsStyleStore} (one preferences file, Tink AES-SIV key
 * names and AES-GCM values). Both fsync on every commit, as {@code SharedPreferences}
 * does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PeerBenchmark {
    @Param({"10", "1000"})
    public int entries;

    @Param({"32", "2048"})
    public int valueBytes;

    private Path directory;
    private ExpoStyleStore expo;
    private EncryptedPrefsStyleStore encryptedPrefs;
    private String value;

    @Setup(Level.Trial)
    public void open() throws Exception {
        directory = BenchFiles.createTempDirectory("peers-");
        value = BenchFiles.value(valueBytes);
        Map<String, String> values = new HashMap<>();
        String background = BenchFiles.value(BenchFiles.BACKGROUND_VALUE_BYTES);
        for (int n = 0; n < entries - 1; n++) {
            values.put(BenchFiles.backgroundKey(n), background);
        }
        values.put(BenchFiles.MEASURED_KEY, value);

        expo = ExpoStyleStore.open(directory.resolve("expo"));
        expo.setItems(values, BenchFiles.SERVICE);
        encryptedPrefs = EncryptedPrefsStyleStore.open(directory.resolve("encrypted-prefs"));
        encryptedPrefs.putStrings(values);
    }

    @TearDown(Level.Trial)
    public void close() {
        BenchFiles.deleteRecursively(directory);
    }

    @Benchmark
    public String expoGet() throws Exception {
        return expo.getItem(BenchFiles.MEASURED_KEY, BenchFiles.SERVICE);
    }

    @Benchmark
    public void expoSet() throws Exception {
        expo.setItem(BenchFiles.MEASURED_KEY, value, BenchFiles.SERVICE);
    }

    @Benchmark
    public String encryptedPrefsGet() throws Exception {
        return encryptedPrefs.getString(BenchFiles.MEASURED_KEY);
    }

    @Benchmark
    public void encryptedPrefsSet() throws Exception {
        encryptedPrefs.putString(BenchFiles.MEASURED_KEY, value);
    }
}
