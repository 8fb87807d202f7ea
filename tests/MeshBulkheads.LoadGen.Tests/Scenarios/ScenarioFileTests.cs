using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Scenarios;
using MeshBulkheads.LoadGen.Streams;

namespace MeshBulkheads.LoadGen.Tests.Scenarios;

public class ScenarioFileTests
{
    private static readonly TenantKeys Keys = TenantKeys.FromEnvironment(_ => null);

    [Fact]
    public void Parse_Yaml_StreamsOptionsAndThresholds()
    {
        // Arrange
        const string yaml = """
            duration: 20s
            connections: 2
            attempts: 3
            pushback: ignore
            streams:
              - { name: payments, key: gold, method: Charge, rate: 20, criticality: critical }
              - name: reporting
                key: silver
                method: BuildReport
                rate: 40
                accounts: 50
            thresholds: [ "payments:ok>=99%", "reporting:rejected>0" ]
            """;

        // Act
        var file = ScenarioFile.Parse(yaml, Keys, "test.yaml");

        // Assert
        Assert.Equal(TimeSpan.FromSeconds(20), file.Duration);
        Assert.Equal(2, file.Connections);
        Assert.Equal(3, file.MaxAttempts);
        Assert.Equal("ignore", file.Pushback);
        Assert.Collection(file.Streams,
            s => Assert.Equal(("payments", "acme-dev-key", MeshMethod.Charge, 20.0, "critical"), (s.Name, s.ApiKey, s.Method, s.Rate, s.Criticality)),
            s => Assert.Equal(("reporting", "globex-dev-key", MeshMethod.BuildReport, 50), (s.Name, s.ApiKey, s.Method, s.Accounts)));
        Assert.Equal(["payments:ok>=99%", "reporting:rejected>0"], file.Thresholds.Select(t => t.Text));
    }

    [Fact]
    public void Parse_Json_SameAsYaml()
    {
        // Arrange
        const string json = """{"duration": "5s", "streams": [{"name": "render", "key": "bronze", "method": "Render", "concurrency": 2, "size": 128}]}""";

        // Act
        var file = ScenarioFile.Parse(json, Keys, "test.json");

        // Assert
        var stream = Assert.Single(file.Streams);
        Assert.Equal(("initech-dev-key", 2, 128, true), (stream.ApiKey, stream.Concurrency, stream.RenderSize, stream.IsClosedLoop));
        Assert.Equal(TimeSpan.FromSeconds(5), file.Duration);
    }

    [Theory]
    [InlineData("streams: [ { method: Nope, rate: 1 } ]", "unknown method 'Nope'")]
    [InlineData("durations: 5s\nstreams: []", "unknown key 'durations'")]
    [InlineData("duration: 5s", "no streams")]
    [InlineData("streams: [ {method: GetBalance, rate: 1} ", "not YAML or JSON")]
    public void Parse_Bad_BadInputNamingTheFile(string text, string expected)
    {
        // Act
        var error = Assert.Throws<BadInputException>(() => ScenarioFile.Parse(text, Keys, "bad.yaml"));

        // Assert
        Assert.StartsWith("bad.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Library_EveryScenario_HasValidPhasesWithKeysFromTheCommandLine()
    {
        // Arrange
        var keys = new TenantKeys("g", "s", "b");

        // Act + Assert: every phase validates, thresholds parse, and only the given keys are used.
        foreach (var scenario in ScenarioLibrary.All)
        {
            foreach (var phase in scenario.Phases(keys, 1.0))
            {
                Assert.All(phase.Streams, s => s.Validate());
                Assert.All(phase.Streams, s => Assert.Contains(s.ApiKey, new[] { "g", "s", "b" }));
                _ = ScenarioLibrary.ParseThresholds(phase.Thresholds);
            }
        }

        Assert.Equal(["baseline", "noisy-neighbor", "overload", "cpu-storm", "deadline-storm", "pool-wait", "retry-storm", "capacity"], ScenarioLibrary.All.Select(s => s.Name));
    }

    [Fact]
    public void Recommend_SustainableRate_LittlesLaw()
    {
        // Act: 400/s at 12.5 ms mean and 40 ms p99, SLO p99 100 ms.
        var recommendation = ScenarioRunner.Recommend(400, 12.5, 40, 100);

        // Assert: L = 400 × 0.0125 = 5 permits; 60 ms of queueing budget; 400 × 0.06 = 24 queued.
        Assert.Equal(5, recommendation.Permits);
        Assert.Equal(TimeSpan.FromMilliseconds(60), recommendation.MaxQueueTime);
        Assert.Equal(24, recommendation.QueueLimit);
    }
}
