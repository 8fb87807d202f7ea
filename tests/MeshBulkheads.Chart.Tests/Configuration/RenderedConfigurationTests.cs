using System.Text.Json.Nodes;
using MeshBulkheads.Chart.Tests.Rendering;
using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Gateway;
using Microsoft.AspNetCore.Builder;
using MeshBulkheads.Gateway.Bulkheads;
using MeshBulkheads.Payments;
using MeshBulkheads.Render;
using MeshBulkheads.Reporting;
using MeshBulkheads.ServiceDefaults.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Chart.Tests.Configuration;

/// <summary>
/// A value the chart renders is a value the service accepts: each component's mounted configuration
/// file and environment, exactly as rendered, bound and validated by the host's own options classes
/// and validators (the host built as its Program.cs builds it; the start-up validators run).
/// </summary>
public sealed class RenderedConfigurationTests(ChartRenders renders)
{
    /// <summary>The environment the images set (<c>ASPNETCORE_ENVIRONMENT=Production</c>: no demo tenants, no seeding).</summary>
    private static readonly Dictionary<string, string> ProductionImage = new() { ["ASPNETCORE_ENVIRONMENT"] = "Production" };

    public static TheoryData<string, string> ProfilesAndComponents()
    {
        var data = new TheoryData<string, string>();
        foreach (var profile in Infrastructure.ChartLayout.Profiles)
        {
            foreach (var component in ComponentHosts.Names)
            {
                data.Add(profile, component);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ProfilesAndComponents))]
    public async Task RenderedConfiguration_HostBuiltWithIt_PassesItsStartupValidation(string profile, string component)
    {
        // Arrange
        var render = await renders.GetAsync(profile, "1.35.0");
        var pod = ComponentHosts.DeployedPodOrSkip(render, component);

        using var sandbox = PodSandbox.Create(render, pod, component, ProductionImage);
        Assert.True(sandbox.Environment.ContainsKey(MeshHost.ConfigFileKey), $"{pod}: no {MeshHost.ConfigFileKey} in the container's environment");
        var file = sandbox.Environment[MeshHost.ConfigFileKey];
        Assert.True(File.Exists(file), $"{pod}: {MeshHost.ConfigFileKey} names a file no mounted ConfigMap provides");
        var rendered = JsonNode.Parse(await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken))!.AsObject();

        // Act
        await using var app = ComponentHosts.Build(component, sandbox.Environment);
        var error = Record.Exception(() => app.Services.GetRequiredService<IStartupValidator>().Validate());

        // Assert
        Assert.True(error is null, $"{render} {component}: the host rejects the rendered configuration: {error}");
        var configuration = app.Services.GetRequiredService<IConfiguration>();
        var missing = Leaves(rendered, null).Where(l => configuration[l.Key] is null).Select(l => l.Key).ToList();
        Assert.True(missing.Count == 0, $"{component}: the host did not load the mounted file: {string.Join(", ", missing.Take(5))}");
        var names = BulkheadNames(app);
        Assert.NotEmpty(names);
        if (component == "gateway")
        {
            // Headless Services need the gateway's own DNS destinations (a ClusterIP pins each HTTP/2 connection to one pod).
            var effective = new ConfigurationBuilder().AddJsonFile(file)
                .AddInMemoryCollection(sandbox.Environment.Select(e => new KeyValuePair<string, string?>(ComponentHosts.ConfigurationKey(e.Key), e.Value))).Build();
            Assert.Equal("true", effective["Gateway:Destinations:Dns:Enabled"]?.ToLowerInvariant());
        }
    }

    [Theory]
    [MemberData(nameof(ProfilesAndComponents))]
    public async Task RenderedConfiguration_EveryKeyOfTheServicesSections_IsAPropertyOfTheirOptions(string profile, string component)
    {
        // Arrange: a misspelt key binds to nothing and the code default silently wins; bind these
        // sections again with ErrorOnUnknownConfiguration to catch it.
        var render = await renders.GetAsync(profile, "1.35.0");
        var pod = ComponentHosts.DeployedPodOrSkip(render, component);

        using var sandbox = PodSandbox.Create(render, pod, component);
        var configuration = new ConfigurationBuilder().AddJsonFile(sandbox.Environment[MeshHost.ConfigFileKey]).Build();
        var errors = new List<string>();
        void Check<T>(string section)
            where T : new()
        {
            var s = configuration.GetSection(section);
            if (!s.Exists())
            {
                return;
            }

            try
            {
                s.Get<T>(o => o.ErrorOnUnknownConfiguration = true);
            }
            catch (InvalidOperationException e)
            {
                errors.Add($"{section}: {e.Message}");
            }
        }

        // Act
        Check<MeshHostingOptions>(MeshHostingOptions.SectionName);
        Check<PaymentsOptions>(PaymentsOptions.SectionName);
        Check<ReportingOptions>(ReportingOptions.SectionName);
        Check<RenderOptions>(RenderOptions.SectionName);
        Check<DeadlinePolicyOptions>(DeadlinePolicyOptions.SectionName);
        foreach (var bulkhead in configuration.GetSection(BulkheadConstants.SectionName).GetChildren().Where(c => c.Key is not ("Routes" or "DefaultCriticality")))
        {
            Check<BulkheadOptions>(bulkhead.Path);
        }

        // Assert
        Assert.True(errors.Count == 0, $"{render} {component}:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
    }

    [Theory]
    [MemberData(nameof(Components))]
    public async Task ChartDefaults_EveryBulkhead_EqualsTheCodeDefaults(string component)
    {
        // Arrange: the chart sets every bulkhead explicitly; its defaults must be the code's, so a
        // cluster and a local run behave alike. Compared after binding, as the host resolves them.
        var (_, sandbox) = await DefaultProductionSandboxAsync(component);
        using var disposeSandbox = sandbox;
        var rendered = JsonNode.Parse(await File.ReadAllTextAsync(sandbox.Environment[MeshHost.ConfigFileKey], TestContext.Current.CancellationToken))!.AsObject();
        await using var code = ComponentHosts.Build(component, null);
        await using var chart = ComponentHosts.Build(component, sandbox.Environment);
        var codeOptions = code.Services.GetRequiredService<IOptionsMonitor<BulkheadOptions>>();
        var chartOptions = chart.Services.GetRequiredService<IOptionsMonitor<BulkheadOptions>>();
        var differences = new List<string>();
        var names = BulkheadNames(code);

        // Act
        foreach (var name in names)
        {
            var c = codeOptions.Get(name);
            var h = chartOptions.Get(name);
            if (rendered["Bulkheads"]?[name]?["MaxQueueTime"] is null && !DerivedQueueTime(component))
            {
                differences.Add($"{name}: the chart does not set Bulkheads:{name}:MaxQueueTime explicitly");
            }

            if (c.MaxQueueTime != h.MaxQueueTime)
            {
                differences.Add($"{name}: MaxQueueTime code {c.MaxQueueTime} chart {h.MaxQueueTime}");
            }

            if (c.QueueLimit != h.QueueLimit)
            {
                differences.Add($"{name}: QueueLimit code {c.QueueLimit} chart {h.QueueLimit}");
            }

            // Derived permits (render's workers, the gateway's per-destination permits) depend on the
            // CPU and the destinations, which differ between a laptop and a pod by design.
            if (!DerivedPermits(component) && c.PermitLimit != h.PermitLimit)
            {
                differences.Add($"{name}: PermitLimit code {c.PermitLimit} chart {h.PermitLimit}");
            }
        }

        // Assert
        Assert.NotEmpty(names);
        Assert.True(differences.Count == 0, $"{component}:{Environment.NewLine}{string.Join(Environment.NewLine, differences)}");
    }

    public static TheoryData<string> Components() => [.. ComponentHosts.Names];

    [Theory]
    [MemberData(nameof(Components))]
    public async Task Shutdown_GracePeriod_ExceedsPreStopPlusHostShutdownPlusFiveSeconds(string component)
    {
        // Arrange: the host's shutdown timeout and Mesh:ShutdownDelay as the host resolves them from what the chart renders.
        var (pod, sandbox) = await DefaultProductionSandboxAsync(component);
        using var disposeSandbox = sandbox;
        await using var app = ComponentHosts.Build(component, sandbox.Environment);
        var hostShutdown = app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
        var delay = app.Services.GetRequiredService<IOptions<MeshHostingOptions>>().Value.ShutdownDelay;

        // Act
        var preStop = sandbox.Container.Lifecycle?.PreStop?.Sleep?.Seconds ?? 0;
        var grace = pod.Spec.TerminationGracePeriodSeconds ?? 30;

        // Assert
        Assert.True(preStop > 0, $"{component}: no native preStop.sleep");
        Assert.Equal(TimeSpan.Zero, delay); // preStop does the waiting; Mesh:ShutdownDelay is the alternative without it.
        Assert.True(grace > preStop + delay.TotalSeconds + hostShutdown.TotalSeconds + 5, $"{component}: terminationGracePeriodSeconds {grace} ≤ preStop {preStop} + ShutdownDelay {delay.TotalSeconds} + host shutdown {hostShutdown.TotalSeconds} + 5");
        Assert.NotEqual(TimeSpan.FromSeconds(30), hostShutdown); // the chart sets it (30 s is .NET's default)
    }

    /// <summary>The default render's pod holding <paramref name="component"/>, and that container laid out as its image runs it (the caller disposes it).</summary>
    private async Task<(PodTemplate Pod, PodSandbox Sandbox)> DefaultProductionSandboxAsync(string component)
    {
        var render = await renders.DefaultAsync();
        var pod = ComponentHosts.PodOf(render, component);
        return (pod, PodSandbox.Create(render, pod, component, ProductionImage));
    }

    /// <summary>
    /// The host's bulkheads: those created at build, plus the gateway's route bulkheads, which its route
    /// monitor creates when the host starts (one <c>gateway-&lt;route&gt;</c> per YARP route in configuration).
    /// </summary>
    private static List<string> BulkheadNames(WebApplication app)
    {
        var names = app.Services.GetRequiredService<IBulkheadProvider>().Names.ToList();
        var routes = app.Services.GetRequiredService<IConfiguration>().GetSection(GatewayApp.ReverseProxySectionName + ":Routes").GetChildren();
        names.AddRange(routes.Select(r => RouteBulkheads.NameOf(r.Key)).Where(n => !names.Contains(n)));
        return names;
    }

    private static bool DerivedPermits(string component) => component is "gateway" or "render";

    private static bool DerivedQueueTime(string component) => false;

    private static IEnumerable<KeyValuePair<string, string?>> Leaves(JsonNode? node, string? prefix)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    foreach (var leaf in Leaves(value, prefix is null ? key : $"{prefix}:{key}"))
                    {
                        yield return leaf;
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    foreach (var leaf in Leaves(a[i], $"{prefix}:{i}"))
                    {
                        yield return leaf;
                    }
                }

                break;
            case null:
                break;
            default:
                yield return new(prefix!, node.ToString());
                break;
        }
    }
}
