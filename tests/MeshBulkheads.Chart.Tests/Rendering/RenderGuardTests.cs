using System.Text.RegularExpressions;
using MeshBulkheads.Chart.Tests.Infrastructure;

namespace MeshBulkheads.Chart.Tests.Rendering;

/// <summary>
/// Every render-time guard (<c>{{ fail }}</c> in a template) makes <c>helm template</c> fail with its
/// message. Tested with template, not lint: <c>helm lint --strict</c> passes a fail with exit 0.
/// </summary>
public sealed partial class RenderGuardTests
{
    /// <summary>A guard: the values that trip it, and a fragment of its message (a literal part of the template's fail text).</summary>
    public sealed record GuardCase(string Name, string[] Set, string MessageFragment);

    // Declared before the case lists that spread it (static fields initialise in order).
    private static readonly string[] AutoscaledRender = ["autoscaling.provider=prometheus-adapter", "components.render.autoscaling.enabled=true"];

    public static readonly GuardCase[] Cases =
    [
        new("sqlite-two-replicas", ["postgresql.enabled=false"], "payments on SQLite cannot run more than one replica or autoscale"),
        new("sqlite-autoscaled", ["postgresql.enabled=false", "components.payments.replicas=1", "components.payments.autoscaling.enabled=true"], "payments on SQLite cannot run more than one replica or autoscale"),
        new("max-connections", ["postgresql.maxConnections=20"], "scaling out cannot fix a database-bound service"),
        new("max-connections-autoscaled", ["components.payments.autoscaling.enabled=true", "components.payments.autoscaling.maxReplicas=10"], "scaling out cannot fix a database-bound service"),
        new("gateway-without-redis", ["redis.enabled=false"], "redis.enabled is false"),
        new("redis-tls-without-secret", ["redis.tls.enabled=true"], "redis.tls.enabled needs redis.tls.existingSecret"),
        new("gateway-tls-without-secret", ["tls.gateway.enabled=true"], "tls.gateway.enabled needs tls.gateway.existingSecret"),
        new("backends-tls-without-secret", ["tls.backends.enabled=true"], "tls.backends.enabled needs tls.backends.existingSecret"),
        new("grace-too-short", ["shutdown.terminationGracePeriodSeconds=60"], "must exceed preStopSleepSeconds + hostShutdownTimeoutSeconds + 5"),
        new("unknown-tier", ["tenants[0].id=acme", "tenants[0].tier=platinum"], "which is not a key of components.gateway.config.Gateway.Tiers"),
        new("autoscaling-without-provider", ["components.render.autoscaling.enabled=true"], "autoscaling.provider is none"),
        new("queue-age-target-above-max-queue-time", [.. AutoscaledRender, "autoscaling.targets.render.queueAgeSeconds=5"], "the bulkhead sheds waiters at MaxQueueTime"),
    ];

    /// <summary>
    /// Guards the schema reaches first (defence in depth inside a template helper): the same values are
    /// refused by values.schema.json before any template runs, which is what these cases assert.
    /// </summary>
    public static readonly GuardCase[] SchemaFirstCases =
    [
        new("saturation-above-one", [.. AutoscaledRender, "autoscaling.targets.render.saturation=1.5"], "must be in (0, 1]"),
        new("max-queue-time-not-a-timespan", [.. AutoscaledRender, "components.render.config.Bulkheads.render.MaxQueueTime=abc"], "is not a TimeSpan of the form"),
        new("autoscaling-target-missing", [.. AutoscaledRender, "autoscaling.targets.render.queueAgeSeconds=null"], "needs queueAgeSeconds and saturation"),
    ];

    public static TheoryData<string> SchemaFirstCaseNames() => [.. SchemaFirstCases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(SchemaFirstCaseNames))]
    public async Task Template_SchemaFirstGuardTripped_RefusedByTheSchema(string name)
    {
        // Arrange, Act
        var standardError = await TemplateFailingAsync(SchemaFirstCases.Single(c => c.Name == name));

        // Assert
        Assert.Contains("values don't meet the specifications of the schema", standardError, StringComparison.Ordinal);
    }

    public static TheoryData<string> CaseNames() => [.. Cases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Template_GuardTripped_FailsWithItsMessage(string name)
    {
        // Arrange
        var guard = Cases.Single(c => c.Name == name);

        // Act
        var standardError = await TemplateFailingAsync(guard);

        // Assert
        Assert.Contains(guard.MessageFragment, standardError, StringComparison.Ordinal);
    }

    /// <summary>Renders with the guard's values, asserts helm refused them, returns what it printed.</summary>
    private static async Task<string> TemplateFailingAsync(GuardCase guard)
    {
        var result = await Helm.TemplateAsync(ChartLayout.KubeVersions[^1], setValues: guard.Set, cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(result.Succeeded, $"{guard.Name}: helm template --set {string.Join(" --set ", guard.Set)} should fail");
        return result.StandardError;
    }

    [Fact]
    public async Task Lint_GuardTripped_StillPasses()
    {
        // Arrange: why the guards are tested with template — lint --strict reports a fail as INFO and exits 0.
        var guard = Cases[0];
        List<string> arguments = ["lint", ChartLayout.ChartDirectory, "--strict"];
        arguments.AddRange(guard.Set.SelectMany(s => new[] { "--set", s }));

        // Act
        var result = await Helm.RunAsync(arguments, TestContext.Current.CancellationToken);

        // Assert
        Assert.True(result.Succeeded, "helm lint --strict now fails on a {{ fail }}: the guards could be linted. " + result);
    }

    [Fact]
    public void Guards_EveryFailInTheTemplates_HasACase()
    {
        // Arrange: the literal text of every fail "…" / fail (printf "…") in the chart's templates.
        var messages = Directory.GetFiles(Path.Combine(ChartLayout.ChartDirectory, "templates"), "*", SearchOption.AllDirectories)
            .SelectMany(f => FailCall().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Text: m.Groups["text"].Value)))
            .ToList();

        // Act
        var untested = messages.Where(m => !Cases.Concat(SchemaFirstCases).Any(c => Literal(m.Text).Contains(c.MessageFragment, StringComparison.Ordinal))).ToList();

        // Assert
        Assert.NotEmpty(messages);
        Assert.True(untested.Count == 0, "guards without a test in RenderGuardTests.Cases: " + string.Join("; ", untested.Select(u => $"{u.File}: {u.Text}")));
    }

    // printf verbs stay as they are: a fragment is chosen from the literal part of the message.
    private static string Literal(string text) => text.Replace("\\\"", "\"", StringComparison.Ordinal);

    [GeneratedRegex("""fail\s+\(?\s*(?:printf\s+)?"(?<text>(?:[^"\\]|\\.)*)"\)?""")]
    private static partial Regex FailCall();
}
