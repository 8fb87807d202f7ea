namespace MeshBulkheads.Observability.Tests;

/// <summary>The rule file, its unit tests and the local scrape config pass the real promtool.</summary>
public sealed class PromtoolTests
{
    [Theory]
    [InlineData("check rules rules.yaml", "SUCCESS")]
    [InlineData("test rules rules.test.yaml", "SUCCESS")]
    [InlineData("check config prometheus.yml", "valid prometheus config file syntax")]
    public async Task Promtool_RepositoryFile_Succeeds(string command, string expected)
    {
        // Arrange: the rules, their unit tests (synthetic series, every case) and the local scrape config.
        var dir = ObservabilityFiles.PrometheusDirectory;

        // Act
        var (exitCode, output) = await Promtool.RunAsync(dir, TestContext.Current.CancellationToken, command.Split(' '));

        // Assert
        Assert.True(exitCode == 0, output);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestRules_QueueAgeThresholdRaised_UnitTestsFail()
    {
        // Arrange: the same unit tests against a copy of the rules whose queue-age threshold is
        // 100 s instead of slo.yaml's 1 s. If they still passed, they would not be checking it.
        var dir = Directory.CreateTempSubdirectory("meshbulkheads-rules-");
        try
        {
            var rules = await File.ReadAllTextAsync(ObservabilityFiles.Rules, TestContext.Current.CancellationToken);
            var mutated = rules.Replace("meshbulkheads:bulkhead_queue_oldest_age:max > 1\n", "meshbulkheads:bulkhead_queue_oldest_age:max > 100\n", StringComparison.Ordinal);
            Assert.NotEqual(rules, mutated);
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "rules.yaml"), mutated, TestContext.Current.CancellationToken);
            File.Copy(ObservabilityFiles.RulesTests, Path.Combine(dir.FullName, "rules.test.yaml"));

            // Act
            var (exitCode, output) = await Promtool.RunAsync(dir.FullName, TestContext.Current.CancellationToken, "test", "rules", "rules.test.yaml");

            // Assert
            Assert.NotEqual(0, exitCode);
            Assert.Contains("MeshBulkheadsQueueAgeHigh", output, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
