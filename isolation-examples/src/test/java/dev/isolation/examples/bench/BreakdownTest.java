package dev.isolation.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.examples.bench.Breakdown.Analysis;
import dev.isolation.examples.bench.Breakdown.Route;
import dev.isolation.examples.bench.Breakdown.Timed;
import dev.isolation.examples.bench.LaunchTrace.Phase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BreakdownTest {
    private static final long MS = 1_000_000;

    /** The trace lines of one launch from a spare, starting at {@code t} ms, each phase {@code step} ms after the last. */
    private static List<String> spareLaunch(long id, long t, long step) {
        List<String> lines = new ArrayList<>();
        String[] phases = {"received", "spare", "released", "exec", "started", "exited"};
        for (int i = 0; i < phases.length; i++) {
            lines.add(id + " " + phases[i] + " " + (t + (i + 1) * step) * MS);
        }
        return lines;
    }

    @Test
    void linesTheTraceUpWithTheTimedLaunchesAndSplitsThemIntoSegments() {
        List<String> lines = new ArrayList<>();
        List<Timed> timed = new ArrayList<>();
        for (int i = 0; i < 98; i++) {
            long t = 1000L * i;
            lines.addAll(spareLaunch(i + 1, t, 1));
            timed.add(new Timed(t * MS, (t + 7) * MS));
        }
        // the slowest two (of 100, those at or above the p99): their command ran 20 ms
        for (int i = 98; i < 100; i++) {
            long t = 1000L * i;
            long id = i + 1;
            lines.addAll(List.of(id + " received " + (t + 1) * MS, id + " spare " + (t + 2) * MS, id + " released " + (t + 3) * MS,
                    id + " exec " + (t + 4) * MS, id + " started " + (t + 5) * MS, id + " exited " + (t + 25) * MS));
            timed.add(new Timed(t * MS, (t + 26) * MS));
        }
        // a direct launch, after a spare that died as it was handed the launch
        long d = 1000L * 100;
        lines.addAll(List.of("101 received " + (d + 1) * MS, "101 spare " + (d + 1) * MS, "101 direct " + (d + 2) * MS,
                "101 released " + (d + 3) * MS,
                "101 exec " + (d + 4) * MS, "101 started " + (d + 5) * MS, "101 exited " + (d + 6) * MS));
        timed.add(new Timed(d * MS, (d + 8) * MS));
        // a launch the trace never saw
        timed.add(new Timed(200_000 * MS, 200_005 * MS));

        Analysis analysis = Breakdown.analyse(timed, LaunchTrace.parse(lines));

        assertThat(analysis.unmatched()).isEqualTo(1);
        assertThat(analysis.routes()).extracting(Route::name).containsExactly("from a spare", "direct (no spare ready)");
        Route spare = analysis.routes().get(0);
        assertThat(spare.launches()).isEqualTo(100);
        assertThat(spare.segments()).hasSize(Breakdown.SPARE_ROUTE.size());
        assertThat(spare.segments().get(0).median()).isEqualTo(1.0);
        assertThat(spare.segments().get(5).median()).isEqualTo(1.0); // started -> exited
        assertThat(spare.segments().get(5).max()).isEqualTo(20.0);
        assertThat(spare.segments().get(5).medianOfSlowest()).isEqualTo(20.0);
        assertThat(spare.segments().get(4).medianOfSlowest()).isEqualTo(1.0); // exec -> started, not slow
        assertThat(spare.whole().median()).isEqualTo(7.0);
        assertThat(spare.whole().max()).isEqualTo(26.0);
        Route direct = analysis.routes().get(1);
        assertThat(direct.launches()).isEqualTo(1);
        assertThat(direct.segments().get(1).median()).as("received -> direct").isEqualTo(1.0);
        assertThat(direct.segments().get(2).median()).as("direct -> released").isEqualTo(1.0);
        assertThat(direct.whole().median()).isEqualTo(8.0);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Breakdown.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), "test", analysis);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("from a spare: 100 launches")
                .contains("command runs, exits, is reaped").contains("1 launch(es) had no complete trace record");
    }

    @Test
    void aWindowWithTwoLaunchesReceivedMatchesNeither() {
        List<String> lines = new ArrayList<>(spareLaunch(1, 0, 1));
        lines.addAll(spareLaunch(2, 2, 1));
        LaunchTrace trace = LaunchTrace.parse(lines);
        assertThat(trace.size()).isEqualTo(2);
        assertThat(trace.receivedBetween(0, 10 * MS)).isEmpty();
        assertThat(trace.receivedBetween(0, 2 * MS)).hasValueSatisfying(p -> assertThat(p.get(Phase.EXEC)).isEqualTo(4 * MS));
    }

    @Test
    void aLaunchWithoutReceivedIsLeftOut() {
        LaunchTrace trace = LaunchTrace.parse(List.of("7 started 5", "7 exited 9", ""));
        assertThat(trace.size()).isZero();
    }

    @Test
    void aMalformedLineIsRefusedWithItsNumber() {
        assertThatThrownBy(() -> LaunchTrace.parse(List.of("1 received 5", "1 sprae 6")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trace line 2").hasMessageContaining("1 sprae 6");
        assertThatThrownBy(() -> LaunchTrace.parse(List.of("1 received")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trace line 1");
    }

    @Test
    void samplesGiveQuantilesByNearestRank() {
        Samples samples = new Samples(new long[] {4 * MS, 1 * MS, 3 * MS, 2 * MS});
        assertThat(samples.quantileMillis(1.0)).isEqualTo(4.0);
        assertThat(samples.quantileMillis(0.5)).isEqualTo(2.0);
        assertThat(samples.quantileMillis(0.0)).isEqualTo(1.0);
        assertThatThrownBy(() -> samples.quantileMillis(1.5)).isInstanceOf(IllegalArgumentException.class);
    }
}
