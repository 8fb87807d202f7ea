using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Chaos.Tests.Cluster;

/// <summary>
/// k8s/chaos/shim/common.sh on its own, without a mesh, in seconds. Its process identity: a pid file names a process only
/// together with its start time, because pid_max is 32768 here and the shim's short processes wrap it, so an old pid
/// file can come to name a stranger (simulated by recording a live process with a start time not its own, which is what
/// a reused pid looks like to the shim). Its state files, read while they are rewritten. Its slot bookkeeping.
/// </summary>
public sealed class ShimCommonTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("shim-identity-").FullName;

    public void Dispose() => TempDirectories.TryDelete(_state);

    [Fact]
    public async Task Signal_TheRecordedProcess_EndsItAndItIsNoLongerRunning()
    {
        // Act
        var result = await RunAsync("""
            sleep 60 >/dev/null 2>&1 &
            record victim $!
            running victim && echo "running before"
            signal TERM victim
            wait || true
            running victim || echo "gone after"
            """);

        // Assert
        Assert.True(result.Succeeded, result.ToString());
        Assert.Contains("running before", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("gone after", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("SIGTERM to victim (pid ", File.ReadAllText(Path.Combine(_state, "events.log")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signal_PidNowOfAnotherProcess_NotRunningAndNotSignalled()
    {
        // Act: the pid file names a live process, but not the one recorded (its start time differs: a reused pid).
        var result = await RunAsync("""
            sleep 60 >/dev/null 2>&1 &
            stranger=$!
            echo "$stranger" >"$state/old.pid"
            echo $(($(started_at "$stranger") - 1)) >"$state/old.start"
            running old || echo "not running"
            signal TERM old
            signal KILL old
            sleep 0.2
            kill -0 "$stranger" && echo "stranger alive"
            kill "$stranger"
            """);

        // Assert
        Assert.True(result.Succeeded, result.ToString());
        Assert.Contains("not running", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("stranger alive", result.StandardOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_state, "events.log")), "a signal was logged as sent to a stranger");
    }

    [Fact]
    public async Task SignalLater_NameRecordedAgainMeanwhile_OnlyTheOldProcessIsTargeted()
    {
        // Act: delete pod's 30 s SIGKILL, shortened: the slot's next process under the same name must survive it.
        var result = await RunAsync("""
            sleep 60 >/dev/null 2>&1 &
            first=$!
            record slot "$first"
            signal_later 1 KILL slot
            kill "$first"; wait "$first" || true
            sleep 60 >/dev/null 2>&1 &
            second=$!
            record slot "$second"
            sleep 1.6
            running slot && echo "second survived"
            kill "$second"
            """);

        // Assert
        Assert.True(result.Succeeded, result.ToString());
        Assert.Contains("second survived", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_ReadersDuringManyWrites_NeverSeeAnEmptyOrPartialFile()
    {
        // Act: a writer replaces the file 300 times while a reader reads it; a truncating write would show "" at times.
        var result = await RunAsync("""
            put "$state/value" 1000000
            (for ((i = 0; i < 300; i++)); do put "$state/value" $((1000000 + i)); done) &
            writer=$!
            bad=0 reads=0
            while kill -0 "$writer" 2>/dev/null; do
              v=$(cat "$state/value")
              reads=$((reads + 1))
              [[ "$v" =~ ^1[0-9]{6}$ ]] || bad=$((bad + 1))
            done
            echo "reads=$reads bad=$bad"
            """);

        // Assert
        Assert.True(result.Succeeded, result.ToString());
        Assert.Matches(@"reads=[1-9][0-9]* bad=0", result.StandardOutput);
    }

    [Fact]
    public async Task Wanted_BothSlotsOfTwoReplicas_AlwaysWantedUnderPipefail()
    {
        // Act: `slots_of | grep -q` failed now and then under pipefail (SIGPIPE once grep had its match), and a rollout
        // then skipped the first replica.
        var result = await RunAsync("""
            mkdir -p "$state/replicas"
            put "$state/replicas/payments" 2
            missed=0
            for ((i = 0; i < 200; i++)); do
              wanted payments || missed=$((missed + 1))
              wanted payments-2 || missed=$((missed + 1))
            done
            wanted reporting-2 && echo "reporting-2 wanted"
            echo "missed=$missed"
            """);

        // Assert
        Assert.True(result.Succeeded, result.ToString());
        Assert.Contains("missed=0", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("reporting-2 wanted", result.StandardOutput, StringComparison.Ordinal);
    }

    private Task<ToolResult> RunAsync(string body)
    {
        var common = Path.Combine(RepositoryLayout.Root, "k8s", "chaos", "shim", "common.sh");
        var script = Path.Combine(_state, "identity.sh");
        File.WriteAllText(script, $"""
            #!/usr/bin/env bash
            set -euo pipefail
            . "{common}"
            {body}

            """);
        return Tool.RunAsync("bash", [script], timeout: TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string?> { ["CHAOS_SHIM_STATE"] = _state }, cancellationToken: TestContext.Current.CancellationToken);
    }
}
