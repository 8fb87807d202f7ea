using System.Diagnostics;
using System.Text.Json.Nodes;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Chaos.Tests.Cluster;

/// <summary>
/// k8s/chaos/lib.sh on its own, without any mesh: a tiny experiment script that sources it, so what every cluster
/// script relies on when something goes wrong is checked in seconds.
/// </summary>
public sealed class ChaosLibTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("chaos-lib-").FullName;

    public void Dispose() => TempDirectories.TryDelete(_directory);

    [Fact]
    public async Task CommandFailingUnderSetE_JournalNamesItAndRollbacksRunOnce()
    {
        // Arrange
        var marker = Path.Combine(_directory, "rolled-back");
        var script = Script($"""
            rollback "leave a marker" bash -c 'echo x >>"{marker}"'
            ls /nonexistent-directory-for-chaos-lib
            echo unreachable
            """);

        // Act
        var (code, output) = await RunAsync(script);

        // Assert
        Assert.True(code == 2, output);
        var journal = SingleJournal(output);
        Assert.Equal("failed", (string?)journal["status"]);
        Assert.Contains(journal["run"]!.AsArray(), r => ((string?)r!["activity"]!["name"])!.Contains(": ls /nonexistent-directory-for-chaos-lib", StringComparison.Ordinal)
            && ((string?)r["activity"]!["name"])!.StartsWith("unexpected failure at experiment.sh:", StringComparison.Ordinal) && (string?)r["status"] == "failed");
        Assert.Contains("an activity failed: unexpected failure at experiment.sh:", (string?)journal["verdict"]!["text"], StringComparison.Ordinal);
        Assert.Equal(["x"], File.ReadAllLines(marker));
        Assert.DoesNotContain("unreachable", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailureInsideAConditional_NotAnUnexpectedFailure()
    {
        // Arrange: set -e ignores a failing condition, and so must the ERR trap.
        var script = Script("""
            if ls /nonexistent-directory-for-chaos-lib 2>/dev/null; then echo listed; fi
            probe after "the script went on" "always" true '"ok"'
            """);

        // Act
        var (code, output) = await RunAsync(script);

        // Assert
        Assert.True(code == 0, output);
        var journal = SingleJournal(output);
        Assert.Equal("completed", (string?)journal["status"]);
        Assert.DoesNotContain(journal["run"]!.AsArray(), r => ((string?)r!["activity"]!["name"])!.StartsWith("unexpected failure", StringComparison.Ordinal));
    }

    private string Script(string body)
    {
        var path = Path.Combine(_directory, "experiment.sh");
        var lib = Path.Combine(RepositoryLayout.Root, "k8s", "chaos", "lib.sh");
        File.WriteAllText(path, $"""
            #!/usr/bin/env bash
            set -euo pipefail
            . "{lib}"
            chaos_begin lib-test "lib.sh on its own" "a script that sources lib.sh" "nothing fails unnamed" "$@"
            {body}

            """);
        return path;
    }

    private async Task<(int Code, string Output)> RunAsync(string script)
    {
        var start = new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["CHAOS_ARTIFACTS"] = Path.Combine(_directory, "journals");
        start.Environment["CHAOS_TIME_LIMIT"] = "60";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return (process.ExitCode, await output + await error);
    }

    private JsonObject SingleJournal(string output)
    {
        var files = Directory.GetFiles(Path.Combine(_directory, "journals"), "*.json");
        Assert.True(files.Length == 1, $"{files.Length} journals; output: {output}");
        var journal = JsonNode.Parse(File.ReadAllText(files[0]))!.AsObject();
        JournalShape.AssertValid(journal);
        return journal;
    }
}
