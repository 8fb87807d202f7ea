using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Experiments;
using MeshBulkheads.Chaos.Local;
using MeshBulkheads.Testing.Processes;
using Spectre.Console.Testing;

namespace MeshBulkheads.Chaos.Tests.Local;

/// <summary>
/// Experiments 1 and 3 of `make chaos`, each with its negative control, against the Debug build's hosts as
/// processes (short load phases; the hypotheses are those of `make chaos`). One class: they run one after
/// another, never two meshes at once on 2 cores.
/// </summary>
[Collection(LiveMeshCollection.Name)]
[Trait(LiveMeshCollection.RunsTrait, LiveMeshCollection.Alone)]
public sealed class LocalExperimentTests : IDisposable
{
    private readonly string _artifacts = Directory.CreateTempSubdirectory("meshchaos-local-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_artifacts, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task KillPayments_AsShipped_HypothesisHoldsAndLedgerExactlyOnce()
    {
        // Arrange
        RequirePostgres();

        // Act
        var (journal, json) = await RunAsync(new KillPaymentsExperiment(), unprotected: false);

        // Assert
        Assert.True(journal.Pass, journal.VerdictText + Environment.NewLine + json.ToJsonString());
        Assert.Equal(0, journal.ExitCode);
        var audit = Probe(json, "every acknowledged charge is in the ledger exactly once");
        Assert.True(audit["acknowledged"]!.GetValue<int>() >= 500);
        Assert.Equal(0, audit["missing"]!.GetValue<int>());
        Assert.Equal(0, audit["duplicated"]!.GetValue<int>());
        Assert.True(Probe(json, "the gateway marked payments-1 unavailable in time").GetValue<double>() <= KillPaymentsExperiment.EjectionBound.TotalSeconds);
    }

    [Fact]
    public async Task KillPayments_HealthChecksOff_NegativeControlDeviates()
    {
        // Arrange
        RequirePostgres();

        // Act
        var (journal, json) = await RunAsync(new KillPaymentsExperiment(), unprotected: true);

        // Assert: the gateway never marks the dead replica. (Whether calls also fail after the bound depends on the
        // restart and on retries: with 3 attempts round robin over two destinations a retry usually reaches the live
        // one, and a CI run saw none fail after it; so the deviation rests on the ejection probe.)
        Assert.True(journal.Deviated, journal.VerdictText + Environment.NewLine + json.ToJsonString());
        Assert.Equal(1, journal.ExitCode);
        Assert.False(Met(json, "the gateway marked payments-1 unavailable in time"));
    }

    [Fact]
    public async Task BlackholeBackend_AsShipped_CallsEndAtTheGatewayDeadline()
    {
        // Act
        var (journal, json) = await RunAsync(new BlackholeBackendExperiment(), unprotected: false);

        // Assert
        Assert.True(journal.Pass, journal.VerdictText + Environment.NewLine + json.ToJsonString());
        var silent = Probe(json, "every call to the silent backend ended by the gateway's deadline");
        Assert.True(silent["maxMs"]!.GetValue<double>() < BlackholeBackendExperiment.ClientDeadline.TotalMilliseconds);
    }

    [Fact]
    public async Task BlackholeBackend_DeadlineNotEnforced_NegativeControlDeviates()
    {
        // Act
        var (journal, json) = await RunAsync(new BlackholeBackendExperiment(), unprotected: true);

        // Assert: without the gateway's cap the calls wait for the client's own deadline.
        Assert.True(journal.Deviated, journal.VerdictText + Environment.NewLine + json.ToJsonString());
        var silent = Probe(json, "every call to the silent backend ended by the gateway's deadline");
        Assert.True(silent["maxMs"]!.GetValue<double>() >= BlackholeBackendExperiment.ClientDeadline.TotalMilliseconds);
    }

    private static void RequirePostgres()
    {
        if (!LocalPostgres.IsInstalled)
        {
            ServerRequirement.Unavailable($"PostgreSQL 15 is not installed ({LocalPostgres.BinDirectory}); apt-get install postgresql-15.");
        }
    }

    private async Task<(ChaosJournal Journal, JsonObject Json)> RunAsync(ChaosExperiment experiment, bool unprotected)
    {
        var settings = new ChaosSettings { Root = RepositoryLayout.Root, Artifacts = _artifacts, Configuration = "Debug", Short = true };
        var log = new StringWriter();
        var runner = new ExperimentRunner(settings, TimeProvider.System, new TestConsole(), log);
        var (journal, path) = await runner.RunAsync(experiment, unprotected, TestContext.Current.CancellationToken);
        TestContext.Current.TestOutputHelper?.WriteLine(log.ToString());
        var json = JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!.AsObject();
        JournalShape.AssertValid(json);
        Assert.Equal(JournalStatus.Completed, journal.Status);
        return (journal, json);
    }

    private static JsonNode Probe(JsonObject journal, string name) =>
        journal["steady_states"]!["after"]!["probes"]!.AsArray().Single(p => (string?)p!["activity"]!["name"] == name)!["output"]!;

    private static bool Met(JsonObject journal, string name) =>
        journal["steady_states"]!["after"]!["probes"]!.AsArray().Single(p => (string?)p!["activity"]!["name"] == name)!["tolerance_met"]!.GetValue<bool>();
}
