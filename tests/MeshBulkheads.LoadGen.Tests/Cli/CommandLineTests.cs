using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Streams;

namespace MeshBulkheads.LoadGen.Tests.Cli;

public class CommandLineTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    [Fact]
    public void Parse_StreamWithEveryField_BuildsTheStream()
    {
        // Arrange
        string[] args = ["run", "--stream", "name=reports,key=silver,method=BuildReport,rate=12.5,deadline=750ms,accounts=40,criticality=sheddable,start=2s,tenant=globex", "--duration", "30s", "--connections", "8"];

        // Act
        var command = CommandLine.Parse(args, NoEnvironment);

        // Assert
        var stream = Assert.Single(command.Streams);
        Assert.Equal(CommandKind.Run, command.Kind);
        Assert.Equal("reports", stream.Name);
        Assert.Equal("globex-dev-key", stream.ApiKey);
        Assert.Equal(MeshMethod.BuildReport, stream.Method);
        Assert.Equal(12.5, stream.Rate);
        Assert.Equal(TimeSpan.FromMilliseconds(750), stream.Deadline);
        Assert.Equal(40, stream.Accounts);
        Assert.Equal("sheddable", stream.Criticality);
        Assert.Equal(TimeSpan.FromSeconds(2), stream.StartAfter);
        Assert.Equal("globex", stream.TenantId);
        Assert.False(stream.IsClosedLoop);
        Assert.Equal(TimeSpan.FromSeconds(30), command.Duration);
        Assert.Equal(8, command.Connections);
    }

    [Fact]
    public void Parse_TierKeyOverridden_ResolvesToTheOverride()
    {
        // Arrange: the override comes after the stream that uses it, and the environment sets another tier.
        string[] args = ["--stream", "method=GetBalance,rate=5,key=gold", "--gold-key", "my-gold"];

        // Act
        var command = CommandLine.Parse(args, name => name == "MESHLOAD_BRONZE_KEY" ? "env-bronze" : null);

        // Assert
        Assert.Equal("my-gold", Assert.Single(command.Streams).ApiKey);
        Assert.Equal("env-bronze", command.Keys.Bronze);
        Assert.Equal("globex-dev-key", command.Keys.Silver);
    }

    [Fact]
    public void Parse_ConcurrencyInsteadOfRate_ClosedLoopStream()
    {
        // Act
        var command = CommandLine.Parse(["--stream", "method=Render,concurrency=8,size=128,iterations=300"], NoEnvironment);

        // Assert
        var stream = Assert.Single(command.Streams);
        Assert.True(stream.IsClosedLoop);
        Assert.Equal(8, stream.Concurrency);
        Assert.Equal(128, stream.RenderSize);
        Assert.Equal(300, stream.RenderIterations);
        Assert.Equal(TimeSpan.FromSeconds(10), stream.Deadline);
    }

    [Theory]
    [InlineData("method=Transfer,rate=5", "unknown method 'Transfer'")]
    [InlineData("method=GetBalance,rate=0", "rate must be")]
    [InlineData("method=GetBalance,rate=-3", "rate must be")]
    [InlineData("method=GetBalance,rate=fast", "rate must be")]
    [InlineData("method=GetBalance", "rate= (open loop) or concurrency=")]
    [InlineData("method=GetBalance,rate=5,concurrency=2", "not both")]
    [InlineData("method=GetBalance,rate=5,deadline=5", "needs a unit")]
    [InlineData("method=GetBalance,rate=5,colour=red", "unknown field 'colour'")]
    [InlineData("method=GetBalance,rate=5,criticality=urgent", "criticality must be")]
    [InlineData("method=GetBalance,rate=5,tenant=", "tenant must not be empty")]
    [InlineData("rate=5", "method= is required")]
    public void ParseStream_BadField_BadInputNamingIt(string stream, string expected)
    {
        // Act
        var error = Assert.Throws<BadInputException>(() => CommandLine.Parse(["--stream", stream], NoEnvironment));

        // Assert
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "frobnicate" }, "unknown command 'frobnicate'")]
    [InlineData(new[] { "--duration" }, "--duration needs a value")]
    [InlineData(new[] { "--pushback", "sometimes" }, "--pushback must be honour or ignore")]
    [InlineData(new[] { "--connections", "0" }, "--connections must be an integer 1..256")]
    [InlineData(new[] { "scenario" }, "needs a name")]
    [InlineData(new[] { "--threshold", "payments:p99 fast" }, "is not stream:metric<op>value")]
    public void Parse_BadOption_BadInput(string[] args, string expected)
    {
        // Act
        var error = Assert.Throws<BadInputException>(() => CommandLine.Parse(args, NoEnvironment));

        // Assert
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ScenarioWithOptions_KeepsNameAndOptions()
    {
        // Act
        var command = CommandLine.Parse(["scenario", "noisy-neighbor", "--report", "r.html", "--pushback", "ignore", "--attempts", "3", "--rate-scale", "0.5"], NoEnvironment);

        // Assert
        Assert.Equal(CommandKind.Scenario, command.Kind);
        Assert.Equal("noisy-neighbor", command.ScenarioName);
        Assert.Equal("r.html", command.ReportPath);
        Assert.Equal(PushbackMode.Ignore, command.Pushback);
        Assert.Equal(3, command.MaxAttempts);
        Assert.Equal(0.5, command.RateScale);
    }

    [Fact]
    public void PlanFrom_ThresholdOnUnknownStream_BadInput()
    {
        // Arrange
        var command = CommandLine.Parse(["--stream", "name=payments,method=GetBalance,rate=5", "--threshold", "reporting:p99<50ms"], NoEnvironment);

        // Act
        var error = Assert.Throws<BadInputException>(() => MeshLoadApp.PlanFrom(command));

        // Assert
        Assert.Contains("names stream 'reporting'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("1.5s", 1500)]
    [InlineData("2m", 120_000)]
    [InlineData("100us", 0.1)]
    public void DurationText_Parse_Milliseconds(string text, double milliseconds)
    {
        // Act
        var value = DurationText.Parse(text, "test");

        // Assert
        Assert.Equal(milliseconds, value.TotalMilliseconds, 6);
    }
}
