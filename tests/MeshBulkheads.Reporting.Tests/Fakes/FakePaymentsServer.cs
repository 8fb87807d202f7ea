using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.Reporting.Tests.Fakes;

/// <summary>Hosts a <see cref="FakePaymentsService"/> on a bare h2c host (<see cref="H2cHost"/>), 127.0.0.1 port 0.</summary>
public sealed class FakePaymentsServer : IAsyncDisposable
{
    private readonly H2cHost _host;
    private bool _killed;

    private FakePaymentsServer(H2cHost host, FakePaymentsService service)
    {
        _host = host;
        Service = service;
    }

    public FakePaymentsService Service { get; }

    public Uri Address => _host.Address;

    /// <summary>Starts a server on a free port, or on <paramref name="port"/> (payments coming back where it was) with <paramref name="service"/>'s state.</summary>
    public static async Task<FakePaymentsServer> StartAsync(int port = 0, FakePaymentsService? service = null)
    {
        service ??= new FakePaymentsService();
        // grpc-dotnet resolves the service from DI when registered: every call sees this one instance.
        var host = await H2cHost.StartAsync(
            builder => builder.Services.AddGrpc().Services.AddSingleton(service),
            app => app.MapGrpcService<FakePaymentsService>(),
            port);
        return new FakePaymentsServer(host, service);
    }

    /// <summary>
    /// Stops the server at once, as a killed process would: connections are aborted, calls in flight (held ones too)
    /// fail on the client's side as transport errors, and new connections are refused. Disposing afterwards does nothing.
    /// </summary>
    public async Task KillAsync()
    {
        _killed = true;
        // A cancelled token: Kestrel does not wait for the calls in flight, it aborts their connections.
        await _host.App.StopAsync(new CancellationToken(canceled: true)).DefaultTimeout();
        await _host.App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_killed)
        {
            return;
        }

        // Open any gate so held calls finish and Kestrel can stop promptly.
        Service.Gate?.TrySetResult();
        await _host.DisposeAsync();
    }
}
