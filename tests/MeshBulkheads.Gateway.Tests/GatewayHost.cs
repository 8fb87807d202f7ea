using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace MeshBulkheads.Gateway.Tests;

/// <summary>
/// Starts the real gateway on Kestrel (127.0.0.1:0) with the shipped appsettings.json (+ the Development file's demo tenants), read
/// explicitly and flattened into in-memory configuration, and destinations pointed at the tests' backends.
/// </summary>
public static class GatewayHost
{
    private static readonly Lazy<Dictionary<string, string?>> Shipped = new(() =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "gateway.appsettings.json"), optional: false)
            // The demo tenants and keys are development configuration (make run).
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "gateway.appsettings.Development.json"), optional: false)
            .Build()
            .AsEnumerable()
            // Keep KestrelHost's quiet logging defaults.
            .Where(kv => kv.Value is not null && !kv.Key.StartsWith("Logging:", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value));

    /// <summary>The shipped configuration with the destinations and <paramref name="overrides"/> applied.</summary>
    public static Dictionary<string, string?> Settings(Uri payments, Uri reporting, Uri render, IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>(Shipped.Value)
        {
            [Destination("payments")] = payments.ToString(),
            [Destination("reporting")] = reporting.ToString(),
            [Destination("render")] = render.ToString(),
        };
        // The test keys replace the shipped SigningKeyId (the shipped file holds no keys).
        foreach (var (key, value) in TestIdentity.GatewaySettings)
        {
            settings[key] = value;
        }

        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public static Task<KestrelHost> StartAsync(Uri payments, Uri reporting, Uri render, IDictionary<string, string?>? overrides = null) =>
        KestrelHost.StartAsync(GatewayApp.Build, Settings(payments, reporting, render, overrides));

    /// <summary>A gateway in front of <paramref name="payments"/> only; reporting's and render's destinations are a closed port.</summary>
    public static Task<KestrelHost> StartPaymentsOnlyAsync(Uri payments, IDictionary<string, string?>? overrides = null)
    {
        var closed = ClosedPort();
        return StartAsync(payments, closed, closed, overrides);
    }

    /// <summary>The configuration key of a cluster's single destination.</summary>
    public static string Destination(string cluster) => $"ReverseProxy:Clusters:{cluster}:Destinations:d1:Address";

    /// <summary>An address on 127.0.0.1 where nothing listens (bound once, then closed).</summary>
    public static Uri ClosedPort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }
}

/// <summary>Three fake backends and one gateway in front of them, shared by a test class.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public FakeBackend Payments { get; private set; } = null!;

    public FakeBackend Reporting { get; private set; } = null!;

    public FakeBackend Render { get; private set; } = null!;

    public KestrelHost Gateway { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Payments = await FakeBackend.StartAsync<FakePaymentsService>();
        Reporting = await FakeBackend.StartAsync<FakeReportingService>();
        Render = await FakeBackend.StartAsync<FakeRenderService>();
        Gateway = await GatewayHost.StartAsync(Payments.Address, Reporting.Address, Render.Address);
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Payments.DisposeAsync();
        await Reporting.DisposeAsync();
        await Render.DisposeAsync();
    }
}
