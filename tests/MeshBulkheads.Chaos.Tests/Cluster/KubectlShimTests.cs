using System.Diagnostics;
using System.Text.Json.Nodes;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Chaos.Tests.Cluster;

/// <summary>
/// k8s/chaos/*.sh without a cluster: their control flow run against a local mesh through k8s/chaos/shim/kubectl —
/// the journal's layout, the exit code following the hypothesis, each rollback once, and a shim that refuses
/// what it does not implement. (SIGINT through the shim is not covered yet: a first test of it was unreliable.) (One local payments process stands for the Deployment, so whether the hypothesis
/// holds here says nothing about a cluster; that it is judged and journaled correctly is what is tested.)
/// </summary>
[Collection(LiveMeshCollection.Name)]
[Trait(LiveMeshCollection.RunsTrait, LiveMeshCollection.Alone)]
public sealed class KubectlShimTests : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("kubectl-shim-").FullName;
    private readonly string _artifacts = Directory.CreateTempSubdirectory("k8s-chaos-").FullName;

    private static string Root => RepositoryLayout.Root;

    private static string Shim => Path.Combine(Root, "k8s", "chaos", "shim", "kubectl");

    public async ValueTask InitializeAsync()
    {
        var (code, output) = await RunAsync(Shim, ["shim-up"], TimeSpan.FromSeconds(120));
        Assert.True(code == 0, "shim-up failed: " + output);
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync(Shim, ["shim-down"], TimeSpan.FromSeconds(30));
        TempDirectories.TryDelete(_state);
        TempDirectories.TryDelete(_artifacts);
    }

    [Fact]
    public async Task Shim_VerbItDoesNotImplement_Exit64()
    {
        // Act
        var (code, output) = await RunAsync(Shim, ["-n", "meshbulkheads", "get", "nodes"], TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(64, code);
        Assert.Contains("unsupported: kubectl get nodes", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletePaymentsPod_ThroughTheShim_JournalLayoutAndExitCodeFollowTheHypothesis()
    {
        // Act
        var (code, output) = await RunAsync(Script("delete-payments-pod.sh"), [], TimeSpan.FromSeconds(240));

        // Assert
        var journal = SingleJournal();
        JournalShape.AssertValid(journal);
        Assert.Equal("kubernetes", (string?)journal["platform"]);
        Assert.Equal("completed", (string?)journal["status"]);
        Assert.Equal(journal["deviated"]!.GetValue<bool>() ? 1 : 0, code);
        Assert.Contains(journal["run"]!.AsArray(), r => ((string?)r!["activity"]!["name"])!.StartsWith("delete pod payments-", StringComparison.Ordinal));
        var rollbacks = journal["rollbacks"]!.AsArray().Select(r => (string?)r!["activity"]!["name"]).ToArray();
        Assert.Contains("delete job/meshbulkheads-chaos-during", rollbacks);
        Assert.Equal(rollbacks.Length, rollbacks.Distinct().Count());
        Assert.Contains(journal["steady_states"]!["after"]!["probes"]!.AsArray(), p => (string?)p!["activity"]!["name"] == "every acknowledged charge is in the ledger exactly once");
        Assert.Contains("journal: ", output, StringComparison.Ordinal);
    }

    private static string Script(string name) => Path.Combine(Root, "k8s", "chaos", name);

    private JsonObject SingleJournal() =>
        JsonNode.Parse(File.ReadAllText(Assert.Single(Directory.GetFiles(_artifacts, "*.json"))))!.AsObject();

    private Process Start(string file, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Root };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CHAOS_SHIM_STATE"] = _state;
        start.Environment["KUBECTL"] = Shim;
        start.Environment["CHAOS_ARTIFACTS"] = _artifacts;
        start.Environment["CHAOS_DURATION"] = "12s";
        start.Environment["CHAOS_STEADY"] = "3s";
        start.Environment["CHAOS_FAULT_AFTER"] = "3";
        return Process.Start(start)!;
    }

    private async Task<(int Code, string Output)> RunAsync(string file, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        using var process = Start(file, arguments);
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
        return (process.ExitCode, await output + await error);
    }

}
