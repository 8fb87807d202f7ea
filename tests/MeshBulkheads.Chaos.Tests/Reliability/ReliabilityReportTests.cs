using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Experiments;
using MeshBulkheads.Chaos.Reliability;

namespace MeshBulkheads.Chaos.Tests.Reliability;

/// <summary>docs/reliability.md comes from the journals: the newest per experiment and control, their numbers, their verdicts.</summary>
public sealed class ReliabilityReportTests : IDisposable
{
    private readonly string _artifacts = Directory.CreateTempSubdirectory("meshchaos-report-").FullName;

    public void Dispose() => Directory.Delete(_artifacts, recursive: true);

    [Fact]
    public async Task Render_JournalsOfOneExperiment_NewestPerControlWithItsNumbersAndVerdicts()
    {
        // Arrange: an older and a newer protected run, and a negative control, of blackhole-backend.
        await WriteAsync("blackhole-backend-20260101T000000Z.json", Journal(unprotected: false, deviated: true, maxMs: 9999.5));
        await WriteAsync("blackhole-backend-20260102T000000Z.json", Journal(unprotected: false, deviated: false, maxMs: 1234.5));
        await WriteAsync("blackhole-backend-unprotected-20260102T000100Z.json", Journal(unprotected: true, deviated: true, maxMs: 5012.25));

        // Act
        var journals = ReliabilityReport.LatestJournals(_artifacts);
        var markdown = ReliabilityReport.Render(journals, "make chaos", TimeProvider.System);

        // Assert
        Assert.Equal(2, journals.Count);
        Assert.Contains("| [blackhole-backend](#blackhole-backend) | PASS (held) | PASS (deviated, as it must) |", markdown, StringComparison.Ordinal);
        Assert.Contains("1234.5", markdown, StringComparison.Ordinal);
        Assert.Contains("5012.25", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("9999.5", markdown, StringComparison.Ordinal);
        Assert.Contains("the last run was `make chaos`", markdown, StringComparison.Ordinal);
        foreach (var id in ExperimentCatalog.Ids)
        {
            Assert.Contains($"## {id}", markdown, StringComparison.Ordinal);
        }

        Assert.Contains("Not run yet", markdown, StringComparison.Ordinal);
    }

    private Task WriteAsync(string name, JsonObject journal) =>
        File.WriteAllTextAsync(Path.Combine(_artifacts, name), ChaosJournal.Serialize(journal), TestContext.Current.CancellationToken);

    private static JsonObject Journal(bool unprotected, bool deviated, double maxMs)
    {
        var journal = new ChaosJournal
        {
            ExperimentId = "blackhole-backend",
            Title = "t",
            Description = "d",
            HypothesisTitle = "h",
            Unprotected = unprotected,
            Start = DateTimeOffset.UnixEpoch,
            End = DateTimeOffset.UnixEpoch.AddSeconds(20),
        };
        journal.Before.Add(new ActivityRun("probe", "before", "ok", true, true, true, journal.Start, journal.Start));
        journal.After = [new ActivityRun("probe", "silent calls ended in time", "<= 2000 ms", true, JsonValue.Create(maxMs), !deviated, journal.Start, journal.End)];
        journal.Measurements.Add(new Measurement("silent-backend max latency", "ms", null, maxMs, null));
        journal.Context["configuration"] = "Release";
        return journal.ToJson([("silent calls ended in time", "<= 2000 ms")], [("action", "load")], ["stop the mesh"]);
    }
}
