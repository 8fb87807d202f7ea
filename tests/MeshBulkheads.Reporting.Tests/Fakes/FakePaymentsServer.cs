using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.Reporting.Tests.Fakes;

/// <summary>Hosts a <see cref="FakePaymentsService"/> on a bare h2c host (<see cref="H2cHost"/>), 127.0.0.1 port 0.</summary>
public sealed class FakePaymentsServer : IAsyncDisposable
{
    private readonly H2cHost _host;

    private FakePaymentsServer(H2cHost host, FakePaymentsService service)
    {
        _host = host;
        Service = service;
    }

    public FakePaymentsService Service { get; }

    public Uri Address => _host.Address;

    public static async Task<FakePaymentsServer> StartAsync()
    {
        var service = new FakePaymentsService();
        // grpc-dotnet resolves the service from DI when registered: every call sees this one instance.
        var host = await H2cHost.StartAsync(
            services => services.AddGrpc().Services.AddSingleton(service),
            app => app.MapGrpcService<FakePaymentsService>());
        return new FakePaymentsServer(host, service);
    }

    public async ValueTask DisposeAsync()
    {
        // Open any gate so held calls finish and Kestrel can stop promptly.
        Service.Gate?.TrySetResult();
        await _host.DisposeAsync();
    }
}
