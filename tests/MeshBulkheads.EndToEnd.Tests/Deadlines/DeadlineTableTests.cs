using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Gateway;
using MeshBulkheads.Gateway.Forwarding;
using MeshBulkheads.Payments;
using MeshBulkheads.Render;
using MeshBulkheads.Reporting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace MeshBulkheads.EndToEnd.Tests.Deadlines;

/// <summary>
/// One table of deadlines for the whole mesh: for every contract method the gateway's effective Default and Max equal
/// the service's, so a call gets the same deadline through the gateway or directly, and the gateway's Max can always
/// apply. Built hosts are inspected, never started.
/// </summary>
public sealed class DeadlineTableTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Resolve_EveryContractMethod_GatewayEqualsTheService(bool withShippedDeadlines)
    {
        // Arrange: the gateway with its shipped appsettings.json (with, or without, its Deadlines section: the code
        // defaults must agree too), the services with their code defaults.
        await using var gateway = GatewayApp.Build(["--environment", KestrelHost.TestEnvironment], b => Configure(b, GatewaySettings(withShippedDeadlines)));
        await using var payments = PaymentsApp.Build([], b => Configure(b, []));
        await using var reporting = ReportingApp.Build([], b => Configure(b, []));
        await using var render = RenderApp.Build([], b => Configure(b, []));
        var services = new Dictionary<string, WebApplication>(StringComparer.Ordinal)
        {
            ["/meshbulkheads.payments.v1.PaymentsService/"] = payments,
            ["/meshbulkheads.reporting.v1.ReportingService/"] = reporting,
            ["/meshbulkheads.render.v1.RenderService/"] = render,
        };
        var methods = GatewayMethods.All.Keys.Where(m => m.StartsWith("/meshbulkheads.", StringComparison.Ordinal)).ToList();

        // Act
        var differences = new List<string>();
        foreach (var method in methods)
        {
            var service = services.Single(s => method.StartsWith(s.Key, StringComparison.Ordinal)).Value;
            var atGateway = Policy(gateway, method);
            var atService = Policy(service, method);
            if (atGateway != atService)
            {
                differences.Add($"{method}: gateway {atGateway}, service {atService}");
            }
        }

        // Assert
        Assert.Contains("/meshbulkheads.payments.v1.PaymentsService/Charge", methods);
        Assert.Empty(differences);
    }

    private static (TimeSpan Default, TimeSpan Max) Policy(WebApplication app, string method)
    {
        var policy = app.Services.GetRequiredService<DeadlineResolver>().Policies.Resolve(method);
        return (policy.Default, policy.Max);
    }

    /// <summary>Only the given settings: no appsettings.json from the shared test output folder, no environment.</summary>
    private static void Configure(WebApplicationBuilder builder, Dictionary<string, string?> settings)
    {
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
    }

    private static Dictionary<string, string?> GatewaySettings(bool withShippedDeadlines) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(RepositoryLayout.Root, "gateway", "MeshBulkheads.Gateway", "appsettings.json"), optional: false)
            .Build()
            .AsEnumerable()
            .Where(kv => kv.Value is not null && (withShippedDeadlines || !kv.Key.StartsWith("Deadlines:", StringComparison.Ordinal)))
            // Nothing listens at the shipped destinations: no probes while the built host is inspected.
            .Select(kv => kv.Key.EndsWith(":HealthCheck:Active:Enabled", StringComparison.Ordinal) ? new KeyValuePair<string, string?>(kv.Key, "false") : kv)
            // Production carries no demo tenants (and refuses them): the test environment and the demo profile's tenants.
            .Concat(DemoProfile.Settings)
            // The shipped SigningKeyId gives way to the test keys' (the shipped file holds no keys).
            .Where(kv => !TestIdentity.GatewaySettings.ContainsKey(kv.Key))
            .Concat(TestIdentity.GatewaySettings)
            .ToDictionary(kv => kv.Key, kv => kv.Value);
}
